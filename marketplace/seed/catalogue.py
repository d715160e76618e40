"""The demo's curated catalogue: kinds of business, what each sells, and the words members
and providers write about them. A plain data module: no I/O, no logic.

A provider *type* (a gym, a dental clinic, a supermarket) fixes the provider's `kind`
(providers' own classification), its category, its brands and opening hours and the
offers it can list, so a provider's name, kind, category and offers always agree: a law
office gives legal advice, a childcare centre looks after children.

An offer template: kind (voucher, paid, points, slot), titles ("{brand}" is replaced by
the provider's brand), what the member gets, the list price range in yuan, tags, terms,
and the member groups it is for (empty: every member).

Words of history (rating comments, complaints, answers) are grouped by mood and written
as members and shop owners write them: short, concrete, sometimes without punctuation.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class OfferTemplate:
    kind: str
    title_zh: str
    title_en: str | None
    description_zh: str
    price: tuple[int, int]  # list price in yuan, lowest and highest
    tags: tuple[str, ...] = ()
    terms_zh: str = ""
    groups: tuple[str, ...] = ()
    category: str | None = None  # the type's category when None


@dataclass(frozen=True)
class ProviderType:
    code: str
    kind: str  # providers.schemas.KINDS
    category: str  # reference_data.CATEGORIES code
    weight: int  # how common, relative
    branch: str  # "店" in 力美健健身(望京店)
    brands: tuple[str, ...]
    hours: dict
    offers: tuple[OfferTemplate, ...]
    staff_title: str = "店员"


_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(open_: str, close: str, days: tuple[str, ...] = _WEEK, **overrides) -> dict:
    hours = {day: [open_, close] for day in days}
    hours.update({day: list(span) for day, span in overrides.items()})
    return hours


T = OfferTemplate

PROVIDER_TYPES: tuple[ProviderType, ...] = (
    ProviderType(
        "gym", "gym", "fitness", 9, "店",
        ("力美健健身", "威尔士健身", "乐刻运动", "一兆韦德健身", "金吉鸟健身", "中体倍力健身", "动能空间健身"),
        _hours("06:30", "22:30"),
        (
            T("paid", "{brand}月卡会员价", "Monthly pass at {brand}",
              "30天内不限次数使用器械区、有氧区和淋浴间，含一次免费体测和器械使用指导。", (299, 499),
              ("不限次数", "含体测"), "自激活之日起30天有效；限本人使用，入场需刷脸核验。"),
            T("paid", "{brand}季卡职工专享", "Quarterly pass for union members",
              "90天畅练全部门店，可预约每周团课（单车、搏击、普拉提），赠送两次私教体验。", (799, 1299),
              ("全门店通用", "赠私教"), "自激活之日起90天有效；团课需提前在小程序预约。"),
            T("voucher", "健身单次体验券", "Single visit pass",
              "凭券到店体验一次，含储物柜和淋浴，教练带你熟悉器械。", (60, 100),
              ("新客可用",), "每人限用一次；高峰时段（18:00–21:00）可能需要排队。"),
            T("slot", "私教体验课（60分钟）", "Personal training trial (60 min)",
              "一对一私教课：体态评估、制定训练计划、动作示范，适合久坐的上班族。", (200, 380),
              ("一对一",), "请按预约时间提前10分钟到店；迟到超过15分钟视为已使用。"),
            T("slot", "燃脂单车团课预约", "Indoor cycling class booking",
              "45分钟动感单车团课，音乐+灯光，教练带练，适合下班后减压。", (60, 120),
              ("团课",), "请穿运动鞋；课程开始后不再入场。"),
            T("points", "积分兑换健身单次票", "Gym day pass for points",
              "用工会积分兑换一次到店健身，器械区、有氧区全天可用。", (50, 90),
              ("积分兑换",), "兑换后30天内使用，过期不退积分。"),
            T("paid", "女职工形体塑形课（8节）", "Body-shaping course for women (8 classes)",
              "8节小班课：核心力量、肩颈放松、产后恢复基础动作，每班不超过10人。", (600, 1080),
              ("小班教学",), "课程需在60天内上完；请提前一天预约。", ("women",)),
        ), "前台"),
    ProviderType(
        "swimming", "gym", "fitness", 4, "馆",
        ("奥体游泳馆", "北辰游泳馆", "京华体育中心", "东单体育中心", "英东游泳馆"),
        _hours("08:00", "21:30", mon=("12:00", "21:30")),
        (
            T("paid", "游泳10次卡", "10-visit swimming card",
              "标准50米泳池，水质每日公示；10次卡可多人共用，每次一人。", (350, 500),
              ("可共用", "恒温泳池"), "自购买之日起一年内有效；入场需佩戴泳帽。"),
            T("points", "积分兑换游泳单次票", "Swimming pass for points",
              "用工会积分兑换一次游泳，含淋浴和储物柜。", (40, 60), ("积分兑换",),
              "兑换后60天内使用；儿童需家长陪同。"),
            T("slot", "羽毛球场地预约（1小时）", "Badminton court booking (1 hour)",
              "木地板羽毛球场，灯光达到比赛标准，可租借球拍。", (80, 120), ("场地预约",),
              "请按时段入场，超时按门市价补差。"),
            T("voucher", "少儿游泳培训体验课券", "Children's swimming trial lesson",
              "6–12岁孩子的游泳体验课，持证教练一带四，含体验泳帽。", (120, 200), ("亲子",),
              "需提前电话预约上课时间；家长需在场。"),
        ), "前台"),
    ProviderType(
        "yoga", "gym", "fitness", 3, "馆",
        ("梵音瑜伽", "自在瑜伽", "悦心瑜伽生活馆"),
        _hours("09:00", "21:30"),
        (
            T("slot", "肩颈舒缓瑜伽团课", "Neck and shoulder yoga class",
              "针对久坐办公的肩颈僵硬，60分钟舒缓流瑜伽，零基础可上。", (90, 150), ("零基础",),
              "请提前10分钟到馆；馆内提供瑜伽垫。"),
            T("paid", "瑜伽月卡", "Monthly yoga pass",
              "一个月内不限次数参加团课（哈他、流瑜伽、阴瑜伽），可预约一次私教评估。", (399, 699),
              ("不限次数",), "自首次上课起30天有效；限本人使用。"),
            T("voucher", "瑜伽体验课券", "Yoga trial class",
              "首次到馆体验一节团课，老师会根据身体情况推荐课程。", (80, 120), ("新客可用",),
              "每人限用一次。"),
        ), "前台"),
    ProviderType(
        "checkup", "clinic", "health_checkup", 5, "分院",
        ("爱康国宾体检中心", "美年大健康体检中心", "慈铭体检", "瑞慈体检中心"),
        _hours("07:30", "17:00", days=_WEEK[:5], sat=("07:30", "12:00")),
        (
            T("paid", "职工年度健康体检套餐", "Annual staff health checkup",
              "含血常规、肝肾功能、血脂血糖、腹部彩超、胸部CT、心电图等28项，报告可线上查看。", (599, 1099),
              ("28项检查", "线上报告"), "需空腹8小时以上；请携带身份证，提前一天预约。"),
            T("paid", "女职工两癌筛查", "Breast and cervical cancer screening for women",
              "乳腺彩超+宫颈TCT+HPV检测，由女医生检查，报告3个工作日内出具。", (400, 780),
              ("女医生检查",), "月经期请勿预约；请携带身份证。", ("women",)),
            T("paid", "骑手职业健康体检", "Occupational health check for riders",
              "针对骑手和快递员：颈腰椎、听力视力、血压血糖、心电图，体检当天出初步结果。", (300, 520),
              ("当天出结果",), "请提前一天预约；可选择早班或午间时段。", ("gig",)),
            T("points", "积分兑换基础体检", "Basic checkup for points",
              "用工会积分兑换基础体检：血常规、尿常规、血压、身高体重、内科检查。", (180, 300),
              ("积分兑换",), "兑换后90天内预约使用。"),
            T("slot", "体检报告解读预约", "Checkup report consultation",
              "体检后由全科医生一对一解读报告，给出复查和生活方式建议，约20分钟。", (100, 200),
              ("一对一",), "请携带体检报告；可由家属代为咨询。"),
        ), "导诊"),
    ProviderType(
        "dental", "clinic", "medical", 4, "诊所",
        ("瑞尔齿科", "拜博口腔", "佳美口腔", "中诺口腔"),
        _hours("09:00", "18:00", days=_WEEK[:6]),
        (
            T("slot", "口腔检查及超声洁牙", "Dental check-up and cleaning",
              "医生口腔检查+全口超声波洁牙+抛光，约45分钟，发现问题当场说明。", (200, 380),
              ("含抛光",), "请按预约时间到诊；孕期请提前告知医生。"),
            T("voucher", "补牙治疗优惠券", "Tooth filling voucher",
              "树脂补牙每颗立减，适用于龋齿、楔状缺损，医生检查后确定方案。", (150, 300),
              ("医生面诊",), "每次治疗限用一张；需先到院检查。"),
            T("paid", "儿童窝沟封闭（4颗）", "Pit and fissure sealing for children (4 teeth)",
              "6–12岁儿童恒牙窝沟封闭，预防蛀牙，全程儿科牙医操作。", (300, 480), ("儿童",),
              "需家长陪同；请提前预约。"),
            T("points", "积分兑换洁牙服务", "Teeth cleaning for points",
              "用工会积分兑换一次超声波洁牙。", (150, 260), ("积分兑换",), "兑换后90天内预约使用。"),
        ), "前台"),
    ProviderType(
        "tcm", "clinic", "medical", 4, "馆",
        ("固生堂中医", "康宁中医门诊部", "同仁堂中医诊所", "平心堂中医"),
        _hours("08:30", "17:30", days=_WEEK[:6]),
        (
            T("voucher", "中医推拿理疗体验券", "TCM massage therapy trial",
              "40分钟颈肩腰背推拿，适合长期伏案、开车、送餐造成的劳损。", (150, 260), ("缓解劳损",),
              "请提前电话预约；皮肤破损处不做推拿。"),
            T("slot", "中医体质辨识及调理建议", "TCM constitution assessment",
              "中医师望闻问切，判断体质类型，给出饮食起居建议，约30分钟。", (100, 200), ("专家面诊",),
              "请勿在就诊前刮舌苔或化妆。"),
            T("paid", "针灸理疗疗程（5次）", "Acupuncture course (5 sessions)",
              "颈椎病、腰肌劳损、失眠的针灸疗程，每次30分钟，由执业中医师操作。", (500, 900),
              ("执业医师",), "疗程需在30天内完成；空腹或过度疲劳时不宜针灸。"),
            T("points", "积分兑换艾灸一次", "Moxibustion session for points",
              "用工会积分兑换一次艾灸（30分钟），适合怕冷、手脚冰凉。", (80, 150), ("积分兑换",),
              "兑换后60天内使用。"),
        ), "前台"),
    ProviderType(
        "cinema", "cinema", "cinema", 5, "店",
        ("万达影城", "CGV影城", "博纳国际影城", "首都电影院", "金逸影城", "UME影城"),
        _hours("09:30", "23:59"),
        (
            T("voucher", "2D电影通兑券", "2D movie ticket", "全天任意场次2D电影通兑，在影城自助机或前台兑换座位。",
              (60, 90), ("全天通用",), "特殊场次（首映、点映）除外；每张限一人一场。"),
            T("paid", "3D/IMAX电影兑换券", "3D/IMAX movie ticket",
              "可兑换3D或IMAX场次一张，含3D眼镜。", (90, 150), ("IMAX可用",), "春节档等特殊档期需补差价。"),
            T("paid", "观影套餐（电影票+爆米花+饮料）", "Movie, popcorn and drink",
              "2D电影票一张+中份爆米花+中杯饮料，周末也能用。", (80, 130), ("周末可用",),
              "小食当日有效，不可单独退换。"),
            T("points", "积分兑换观影券", "Movie ticket for points", "用工会积分兑换一张2D电影票。", (60, 90),
              ("积分兑换",), "兑换后30天内使用。"),
            T("slot", "工会观影专场预约", "Union film screening booking",
              "每月一场工会包场，放映近期口碑好片，现场有工会小礼品。", (40, 80), ("包场",),
              "每人限约一个座位；开场后15分钟停止入场。"),
        ), "前台"),
    ProviderType(
        "restaurant", "restaurant", "dining", 8, "店",
        ("西贝莜面村", "眉州东坡", "四季民福烤鸭店", "南门涮肉", "金鼎轩", "便宜坊烤鸭店"),
        _hours("10:30", "21:30"),
        (
            T("voucher", "{brand}满200减60代金券", "¥60 off ¥200 at {brand}",
              "堂食满200元立减60元，酒水除外，可与会员积分同享。", (60, 60), ("堂食",),
              "每桌限用一张；节假日通用。"),
            T("paid", "职工双人套餐", "Set meal for two",
              "招牌菜两道+时令蔬菜+主食两份+饮品两杯，够两位成年人吃饱。", (168, 268), ("双人餐",),
              "需到店堂食；高峰时段可能需要等位。"),
            T("paid", "家庭四人聚餐套餐", "Family meal for four",
              "适合周末带老人孩子聚餐：六菜一汤+主食，菜品可按口味调换一道。", (398, 598), ("家庭聚餐",),
              "建议提前一天电话订座。"),
            T("slot", "工会活动包间预订", "Private room for union events",
              "10–16人包间，可做班组聚餐、退休欢送会，含投影和话筒。", (300, 600), ("包间",),
              "最低消费以门店公示为准；请按预约时段到店。"),
            T("points", "积分兑换招牌菜一份", "Signature dish for points",
              "用工会积分兑换一份店内招牌菜，堂食或打包均可。", (48, 98), ("积分兑换",),
              "兑换后30天内使用。"),
        ), "服务员"),
    ProviderType(
        "fastfood", "restaurant", "dining", 8, "店",
        ("庆丰包子铺", "和合谷", "永和大王", "吉野家", "嘉和一品", "护国寺小吃"),
        _hours("06:30", "21:00"),
        (
            T("voucher", "职工午餐立减10元券", "¥10 off lunch",
              "工作日午餐（11:00–14:00）任意套餐立减10元。", (10, 10), ("工作日午餐",),
              "每人每天限用一张；外卖不可用。"),
            T("paid", "骑手暖心午餐", "Warm lunch for riders",
              "一荤一素一汤一饭，热乎管饱，骑手出示工作证或订单App即可享用。", (25, 35), ("骑手专享",),
              "每天限一份；到店出示券码即可。", ("gig",)),
            T("points", "积分兑换早餐套餐", "Breakfast set for points",
              "包子/粥/豆浆等早餐套餐一份，早上6:30起供应。", (12, 22), ("积分兑换", "早餐"),
              "兑换后30天内使用，限早餐时段。"),
            T("paid", "工作日午餐10次卡", "10 weekday lunches",
              "10次工作日午餐，每次任选一份套餐，可多人分次使用。", (220, 320), ("可共用",),
              "自购买之日起90天有效。"),
        ), "店员"),
    ProviderType(
        "canteen", "restaurant", "dining", 2, "点",
        ("职工之家暖心食堂", "工会爱心餐厅"),
        _hours("06:30", "19:30"),
        (
            T("paid", "户外劳动者爱心午餐", "Lunch for outdoor workers",
              "环卫工人、快递员、外卖骑手等户外劳动者的午餐，两荤两素一汤，工会补贴大部分费用。", (20, 28),
              ("工会补贴",), "每天限一份；凭券码到窗口取餐。", ("gig",)),
            T("voucher", "暖心驿站热饮券", "Hot drink at the workers' rest stop",
              "冬天送一杯热姜茶或豆浆，驿站可歇脚、充电、加热饭菜。", (5, 8), ("免费领取",),
              "每人每天限一张。"),
            T("points", "积分兑换早餐", "Breakfast for points", "两个包子+一碗小米粥+一个鸡蛋。", (8, 12),
              ("积分兑换",), "兑换后30天内使用。"),
        ), "窗口"),
    ProviderType(
        "vocational", "trainer", "training", 5, "校区",
        ("北京市职工技能培训学校", "京工匠人职业技能培训学校", "海淀职工技能实训中心", "阳光职业技能培训学校"),
        _hours("08:30", "20:30", days=_WEEK[:6]),
        (
            T("paid", "低压电工作业证培训", "Low-voltage electrician certification course",
              "理论+实操共56课时，考前集中辅导，通过后取得特种作业操作证。", (1500, 2600), ("含考证",),
              "开班前可全额退款；开班后按课时退费。"),
            T("paid", "育婴员（五级）培训课程", "Childcare worker course (level 5)",
              "育婴员职业技能培训，含新生儿护理、辅食制作、早期教育，结业可参加职业技能等级认定。",
              (1800, 3000), ("职业技能等级认定",), "需年满18周岁；请携带身份证报名。", ("women",)),
            T("paid", "焊工技能提升培训", "Welding skills course",
              "电焊、气焊实操为主，小班教学，材料费全包，适合在建筑、制造业工作的职工。", (1200, 2400),
              ("实操为主",), "需自备劳保鞋；结业颁发培训证书。", ("migrant",)),
            T("paid", "养老护理员培训", "Elderly care worker training",
              "失能老人照护、康复辅助、急救常识，含养老机构实习一周。", (1600, 2800), ("含实习",),
              "开班前可全额退款。"),
            T("slot", "职业规划一对一咨询", "One-to-one career counselling",
              "职业指导师一对一聊职业方向、技能提升和补贴政策，约45分钟。", (200, 400), ("一对一",),
              "可到校区或线上视频咨询。"),
            T("points", "积分兑换线上技能课", "Online skills course for points",
              "可选Excel办公、短视频剪辑、电商客服等线上课程一门，手机可学。", (99, 299), ("线上学习",),
              "兑换后一年内有效。"),
        ), "教务"),
    ProviderType(
        "exam_prep", "trainer", "training", 3, "校区",
        ("华图教育", "中公教育", "新东方", "学而思成人教育"),
        _hours("09:00", "21:00"),
        (
            T("paid", "职工学历提升辅导班", "Adult degree preparation course",
              "成人高考、自学考试辅导，周末和晚上上课，配套题库和直播回放。", (2000, 4200), ("周末班",),
              "开课7天内可申请退款。"),
            T("voucher", "英语口语课程优惠券", "English speaking course voucher",
              "成人英语口语小班课立减，外教+中教，适合工作中需要英语的职工。", (300, 600), ("小班",),
              "报名时出示券码，每人限用一张。"),
            T("slot", "学习规划试听课预约", "Trial class booking",
              "免费试听一节，老师帮你测水平、定计划。", (50, 100), ("试听",), "请按时到校区或进入直播间。"),
            T("points", "积分兑换考试题库会员", "Exam question bank for points",
              "兑换一年题库会员，含历年真题和模考。", (99, 199), ("积分兑换",), "兑换后一年内有效。"),
        ), "课程顾问"),
    ProviderType(
        "driving", "trainer", "training", 2, "训练场",
        ("东方时尚驾校", "海驾驾校", "金港驾校"),
        _hours("07:00", "19:00"),
        (
            T("paid", "C1手动挡驾照培训职工价", "Driving licence course (C1)",
              "含科目一至科目四培训和考试安排，班车接送，周末可练车。", (4800, 6800), ("班车接送",),
              "报名需体检合格；学费含首次考试费。"),
            T("slot", "科目二模拟练习（2小时）", "Driving test practice (2 hours)",
              "考场同款车辆和路线，教练陪练，考前查漏补缺。", (300, 480), ("考场同款",),
              "请按预约时段到场，迟到不补时。"),
            T("voucher", "驾照培训报名立减券", "Driving course discount", "报名C1/C2班次立减。", (300, 500),
              ("报名立减",), "报名时出示券码，不与其他优惠同享。"),
        ), "前台"),
    ProviderType(
        "supermarket", "merchant", "shopping", 8, "店",
        ("物美超市", "华联超市", "永辉超市", "超市发"),
        _hours("08:00", "22:00"),
        (
            T("voucher", "{brand}满200减50券", "¥50 off ¥200 at {brand}",
              "店内购物满200元立减50元，生鲜、粮油、日用品都能用。", (50, 50), ("全场通用",),
              "烟酒、奶粉、购物卡除外；每次限用一张。"),
            T("paid", "职工福利粮油礼包", "Rice and cooking oil gift pack",
              "东北大米10斤+非转基因大豆油5升+挂面两把，可到店自提。", (128, 198), ("到店自提",),
              "请在30天内到店提货。"),
            T("paid", "困难职工送温暖礼包", "Winter care pack for workers in hardship",
              "米面油、牛奶、鸡蛋和冬季用品，工会补贴大部分费用。", (200, 360), ("工会补贴",),
              "凭券码到店提货，可由家属代领。", ("hardship",)),
            T("points", "积分兑换生活用品礼包", "Household goods pack for points",
              "洗衣液、抽纸、洗洁精、牙膏组合装。", (60, 120), ("积分兑换",), "兑换后30天内到店领取。"),
            T("paid", "应季水果礼盒", "Seasonal fruit box", "应季水果约5斤，产地直采，到店自提。", (98, 168),
              ("产地直采",), "水果按季节调整品种；请在7天内提货。"),
        ), "收银员"),
    ProviderType(
        "convenience", "merchant", "shopping", 4, "店",
        ("好邻居便利店", "京东便利店", "便利蜂", "快客便利店"),
        _hours("00:00", "23:59"),
        (
            T("voucher", "早餐立减5元券", "¥5 off breakfast", "早餐时段（6:00–10:00）包子、饭团、咖啡立减5元。",
              (5, 5), ("早餐",), "每人每天限用一张。"),
            T("points", "积分兑换热饮一杯", "Hot drink for points", "现磨咖啡或热豆浆任选一杯。", (8, 15),
              ("积分兑换",), "兑换后30天内使用。"),
            T("voucher", "满50减10券", "¥10 off ¥50", "店内购物满50元立减10元。", (10, 10), ("全场通用",),
              "烟酒、充值卡除外。"),
        ), "店员"),
    ProviderType(
        "electronics", "merchant", "shopping", 2, "店",
        ("迪信通", "苏宁易购", "国美电器"),
        _hours("09:30", "21:30"),
        (
            T("voucher", "手机以旧换新补贴券", "Phone trade-in bonus", "旧手机折价后再立减，新机当场激活。",
              (100, 300), ("以旧换新",), "每人限用一张；需携带身份证。"),
            T("points", "积分兑换手机贴膜", "Screen protector for points", "钢化膜一张，含贴膜服务。", (39, 69),
              ("积分兑换",), "兑换后60天内使用。"),
            T("paid", "家电清洗服务（空调/油烟机）", "Appliance cleaning",
              "师傅上门拆洗空调或油烟机一台，高温蒸汽消毒。", (120, 200), ("上门服务",),
              "下单后3天内电话预约上门时间。"),
        ), "店员"),
    ProviderType(
        "mobility", "merchant", "travel", 4, "服务点",
        ("首汽约车", "一嗨租车", "神州租车"),
        _hours("08:00", "20:00"),
        (
            T("voucher", "网约车出行立减券", "Ride-hailing discount", "打车立减，上下班通勤、深夜回家都能用。",
              (10, 20), ("通勤",), "每单限用一张；有效期内可用。"),
            T("paid", "周末租车日租职工价", "Weekend car rental", "经济型轿车日租，含基础保险，可异店还车。",
              (160, 260), ("含保险",), "需持驾照满一年；押金以门店为准。"),
            T("points", "积分兑换打车券", "Ride voucher for points", "用工会积分兑换一张打车立减券。", (15, 30),
              ("积分兑换",), "兑换后30天内使用。"),
            T("paid", "机场/火车站接送", "Airport or station transfer", "五环内往返首都机场、大兴机场或北京南站。",
              (120, 220), ("提前预约",), "请至少提前4小时预约。"),
        ), "客服"),
    ProviderType(
        "car_care", "other", "travel", 3, "店",
        ("平安汽车养护中心", "途虎养车工场店", "京车汇汽修"),
        _hours("08:30", "19:00"),
        (
            T("voucher", "精致洗车券", "Car wash", "外观精洗+内饰吸尘+轮毂清洁，约40分钟。", (40, 80), ("精洗",),
              "每次限用一张；雨雪天可改期。"),
            T("paid", "小保养套餐（机油+机滤）", "Oil and filter service", "全合成机油+原厂规格机滤+20项安全检查。",
              (299, 499), ("20项检查",), "请提前预约；车型不同价格可能调整。"),
            T("slot", "四轮定位检测预约", "Wheel alignment booking", "电脑四轮定位检测和调整，约30分钟。",
              (100, 180), ("预约免排队",), "请按预约时段到店。"),
            T("points", "积分兑换洗车一次", "Car wash for points", "用工会积分兑换一次标准洗车。", (30, 50),
              ("积分兑换",), "兑换后60天内使用。"),
        ), "前台"),
    ProviderType(
        "housekeeping", "other", "housekeeping", 4, "门店",
        ("管家帮家政", "爱心家政服务中心", "三八家政", "阿姨来了家政"),
        _hours("08:00", "20:00"),
        (
            T("paid", "日常保洁服务（3小时）", "House cleaning (3 hours)",
              "阿姨上门3小时：厨房、卫生间、地面和家具表面清洁，自带工具。", (150, 240), ("上门服务",),
              "下单后电话约时间；超时按小时计费。"),
            T("paid", "深度开荒保洁", "Deep cleaning after moving", "新房或搬家后的深度清洁，两位阿姨约6小时。",
              (400, 700), ("两人上门",), "面积超过120平方米需补差价。"),
            T("voucher", "家政服务立减券", "Home service discount", "任意家政服务订单立减。", (30, 60),
              ("全品类",), "每单限用一张。"),
            T("slot", "育儿嫂/保姆面试预约", "Nanny interview booking", "在门店和候选阿姨面谈，顾问帮你把关。",
              (100, 200), ("顾问陪同",), "请按时到店；可视频面试。"),
        ), "顾问"),
    ProviderType(
        "laundry", "merchant", "housekeeping", 3, "店",
        ("福奈特洗衣", "象王洗衣", "荣昌洗衣"),
        _hours("08:30", "20:30"),
        (
            T("voucher", "干洗8折券", "20% off dry cleaning", "大衣、西装、羽绒服等干洗打8折。", (50, 100),
              ("干洗",), "皮衣、婚纱除外。"),
            T("paid", "羽绒服清洗（2件）", "Two down jackets cleaned", "羽绒服专业清洗、烘干、蓬松护理，7天取件。",
              (80, 140), ("7天取件",), "贵重品牌请在收衣时说明。"),
            T("points", "积分兑换衬衫洗熨3件", "3 shirts washed and ironed for points", "衬衫水洗+熨烫3件。",
              (30, 50), ("积分兑换",), "兑换后60天内使用。"),
        ), "店员"),
    ProviderType(
        "childcare", "other", "childcare", 3, "园",
        ("红黄蓝托育", "金宝贝早教", "爱心托育中心", "小橡树托育"),
        _hours("07:30", "18:30", days=_WEEK[:5]),
        (
            T("slot", "托育体验日预约", "Childcare trial day", "2–3岁宝宝全天体验，含午餐、午睡和户外活动。",
              (150, 300), ("含午餐",), "需提供宝宝疫苗接种记录；请提前一天预约。"),
            T("paid", "寒暑假托管班职工价", "School holiday day care",
              "小学生寒暑假全天托管：作业辅导、阅读、体育活动和午餐，每班不超过20人。", (1500, 2800),
              ("含午餐", "作业辅导"), "按周报名，开班前可全额退款。"),
            T("voucher", "早教体验课券", "Early education trial class", "0–3岁亲子早教体验课一节，家长陪同。",
              (100, 200), ("亲子",), "需提前电话预约。"),
            T("slot", "职工子女课后托管预约", "After-school care booking",
              "放学后托管至18:30：作业辅导、点心和接送。", (60, 120), ("课后托管",),
              "请按时段预约；接送需登记家长信息。"),
        ), "老师"),
    ProviderType(
        "travel_agency", "other", "leisure", 3, "门市",
        ("中青旅", "北京青年旅行社", "康辉旅行社", "众信旅游"),
        _hours("09:00", "18:00"),
        (
            T("paid", "京郊一日游职工专享", "Day trip to the Beijing countryside",
              "古北水镇或雁栖湖一日游，含往返大巴、门票和午餐，导游全程陪同。", (199, 359), ("含门票", "含午餐"),
              "出发前48小时可免费退改。"),
            T("paid", "职工疗休养线路（3天2晚）", "Union rest-and-recuperation trip (3 days)",
              "承德或北戴河疗休养线路，含住宿、餐食和景点门票，适合工会组织集体出行。", (1200, 2400),
              ("疗休养",), "出发前7天可免费退改；需提交参团人员名单。"),
            T("points", "积分兑换公园年票", "Annual park pass for points", "北京市公园年票一张，可游览百余家公园。",
              (100, 120), ("积分兑换",), "兑换后到门市领取实体卡。"),
            T("voucher", "旅游线路报名立减券", "Tour discount", "国内跟团游线路报名立减。", (100, 300),
              ("跟团游",), "每人限用一张。"),
        ), "顾问"),
    ProviderType(
        "resort", "other", "leisure", 3, "",
        ("九华山庄温泉度假村", "溪谷温泉度假村", "龙脉温泉", "北山农家院"),
        _hours("09:00", "22:00"),
        (
            T("voucher", "温泉门票优惠券", "Hot spring ticket discount", "室内外温泉泡池、汗蒸、休息大厅全天畅享。",
              (198, 298), ("全天畅享",), "节假日需提前预约；请自备或租用泳衣。"),
            T("paid", "温泉度假一晚双人套餐", "Hot spring night for two",
              "标准间一晚+双人温泉门票+双人自助早餐。", (599, 999), ("含早餐",), "入住前3天可免费取消。"),
            T("slot", "京郊采摘活动预约", "Fruit picking booking", "按季节采摘草莓、樱桃或苹果，含1斤采摘。",
              (60, 120), ("亲子",), "请按预约时段入园；雨天可改期。"),
            T("points", "积分兑换温泉单人票", "Hot spring ticket for points", "用工会积分兑换温泉单人门票。",
              (150, 220), ("积分兑换",), "兑换后60天内使用，需提前预约。"),
        ), "前台"),
    ProviderType(
        "law_firm", "other", "legal", 3, "",
        ("泰和律师事务所", "京师法律服务所", "德恒职工法律援助站", "公信律师事务所"),
        _hours("09:00", "17:30", days=_WEEK[:5]),
        (
            T("slot", "劳动法律咨询预约", "Labour law consultation",
              "欠薪、加班费、工伤、解除劳动合同等问题，执业律师一对一咨询30分钟。", (200, 500), ("执业律师",),
              "请带上劳动合同、工资条等材料；可视频咨询。"),
            T("slot", "新就业形态劳动者权益咨询", "Rights advice for gig workers",
              "骑手、网约车司机、快递员的劳动关系认定、平台规则、职业伤害保障咨询。", (200, 400), ("免费咨询",),
              "请提前预约；可视频咨询。", ("gig",)),
            T("paid", "劳动合同审查", "Employment contract review", "律师审阅劳动合同或竞业协议，出具书面意见。",
              (300, 800), ("书面意见",), "3个工作日内出具意见。"),
            T("voucher", "法律文书代写优惠券", "Legal document drafting discount", "劳动仲裁申请书、起诉状等文书代写立减。",
              (200, 400), ("文书代写",), "每件文书限用一张。"),
        ), "助理"),
)

TYPES_BY_CODE = {t.code: t for t in PROVIDER_TYPES}
# An earlier run's providers are found again by their brand (their name's part before "(").
TYPE_OF_BRAND = {brand: t.code for t in PROVIDER_TYPES for brand in t.brands}

# Offer kinds' words on tags and descriptions.
KIND_TAGS = {"paid": "会员价", "voucher": "优惠券", "points": "积分兑换", "slot": "在线预约"}
GROUP_TAGS = {"women": "女职工专享", "gig": "新就业形态专享", "migrant": "农民工专享",
              "hardship": "困难职工专享", "model_worker": "劳模专享"}
OFFER_USAGE_ZH = {
    "voucher": "领取后凭券码到店出示，由店员核销后抵扣。",
    "paid": "在线支付会员价后获得电子券，到店出示券码核销使用。",
    "points": "使用工会积分兑换，兑换后到店出示券码核销。",
    "slot": "请选择时段在线预约，按预约时间到店签到。",
}
OFFER_USAGE_EN = {
    "voucher": "Claim it, then show the code at the counter to get the discount.",
    "paid": "Pay the member price online, then show the code at the counter.",
    "points": "Exchange union points for it, then show the code at the counter.",
    "slot": "Book a time slot online and check in at the booked time.",
}

# --- Words of history --------------------------------------------------------------

# Rating comments by mood; {short} is a short word for the business ("店里", "老师").
COMMENTS_GOOD = (
    "服务很周到，工会价确实实惠，下次还来。", "店员态度很好，核销很快，不到一分钟。", "环境干净整洁，比想象的好。",
    "性价比高，用工会的券省了不少钱。", "第一次用工会的优惠，挺方便的，手机出示一下码就行。",
    "排队的人不多，体验很好。", "推荐给同事了，大家都说好。", "价格透明，没有额外收费，放心。",
    "带父母来的，老人也很满意。", "比平时买便宜一半，给工会点赞！", "很专业，讲解很耐心。",
    "预约的时间很准，没有让我等。", "位置好找，地铁出来走几分钟就到。", "东西不错，量也足。",
    "服务热情，细节到位，还会再来。", "下班过来正好，营业时间长很方便。", "用券很顺利，店员一看就知道怎么核销。",
    "整体满意，希望工会多上点这样的优惠。", "好评，干净卫生。", "孩子很喜欢，老师很有耐心。",
)
COMMENTS_FAIR = (
    "还行吧，人有点多，等了二十分钟。", "东西可以，就是停车不太方便。", "中规中矩，和平时差不多。",
    "优惠力度一般，服务还可以。", "周末人太多了，建议工作日来。", "店员一开始不知道怎么核销，问了店长才弄好。",
    "环境一般，价格确实便宜。", "整体还可以，就是有点吵。", "预约系统有点慢，到店后还算顺利。",
    "质量还行，包装简单了点。",
)
COMMENTS_BAD = (
    "到店说工会券不能用，让我按原价付，很失望。", "态度很差，问两句就不耐烦。", "和页面上写的不一样，缩水了。",
    "等了快一个小时，没人理。", "卫生条件不好，桌子都是油。", "说好的会员价，结账时又加了服务费。",
    "预约了时段，到了说已经约满了。", "推销办卡，体验很不好。", "东西不新鲜，回家就坏了。",
    "券核销了但没给优惠，要求退款也没人管。", "前台说工会的活动结束了，可页面上还在。",
    "环境脏乱差，不会再来了。",
)

# The provider's public reply under a review (evaluation/ratings/reviews.py), by the review's mood.
REPLIES_GOOD = (
    "感谢您的认可！欢迎常来，工会会员到店出示券码即可。", "谢谢您的好评，我们会继续保持服务质量。",
    "感谢支持！推荐您工作日晚上来，人少一些。", "谢谢您的分享，期待下次再为您服务。",
)
REPLIES_FAIR = (
    "感谢您的建议，周末人多，我们已增加了人手，建议提前预约。", "谢谢反馈，停车问题我们正在和物业协调。",
    "抱歉让您久等，我们会优化核销流程。",
)
REPLIES_BAD = (
    "非常抱歉给您带来不好的体验，店长已联系您了解情况，工会券全部按页面价格核销。",
    "对不起，我们已对当班员工进行培训，欢迎您再来监督。", "抱歉！情况已核实，已为您办理退款，请留意到账。",
)

# Complaints by complaint category.
COMPLAINTS = {
    "not_honoured": (
        "到店出示券码，店员说工会优惠已经停了，只能按门市价付款。券还被核销了。",
        "页面写的会员价，结账时却按原价收费，说系统没有更新。",
        "预约成功的时段到店，被告知没有位置，让我改天，但券已经显示使用。",
        "套餐内容和页面描述不一致，少了两样东西，店员说是活动调整。",
    ),
    "overcharge": (
        "核销后又额外收了30元服务费，事先没有说明。",
        "说工会价不含材料费，额外收了80元，页面上没写。",
        "结账时多收了一份饮料的钱，要求退还被拒绝。",
    ),
    "poor_service": (
        "店员态度恶劣，问怎么核销直接说不会弄，让我自己看着办。",
        "等了四十分钟没人接待，最后说今天做不了。",
        "教练上课时一直玩手机，课程敷衍。",
        "电话预约一直没人接，到店又说必须预约。",
    ),
    "safety_hygiene": (
        "餐具上有明显污渍，饭菜里吃出头发。",
        "更衣室地面湿滑没有防滑垫，差点摔倒，反映了也没人处理。",
        "器械有损坏还在用，没有任何警示。",
    ),
    "discrimination": (
        "看到是工会优惠券就爱答不理，说这种券只能安排最差的时段。",
    ),
    "other": (
        "核销以后没有收据也没有发票，要求开具被拒绝。",
        "营业时间和页面写的不一样，下午四点就关门了。",
    ),
}
ANSWERS = (
    "非常抱歉给您带来不好的体验。已核实是新来的店员不熟悉工会券流程，已组织全员培训，差价已退还到您的账户，欢迎再来。",
    "您好，经查当天系统升级导致价格未同步，我们已按会员价为您退还差额，并向您致歉。",
    "感谢反馈。我们已更换相关器械并增加防滑垫，负责的主管也已约谈。希望您再给我们一次机会。",
    "抱歉让您久等。当天有两位员工请假，人手不足，我们已调整排班。您的预约可随时改期，无需另付费用。",
    "您好，服务费是店内统一规定，但页面确实没有写明，我们已联系平台补充说明，并退还您这次的服务费。",
    "已联系您本人沟通，重新为您安排了时段，并赠送一次体验，非常抱歉。",
)
RESOLUTIONS = (
    "经调解，商户已退还差价并致歉，会员表示接受。",
    "商户已整改并重新培训员工，会员对处理结果满意。",
    "经核实属实，已督促商户按页面承诺执行，并记录在商户评价中。",
    "会员与商户协商一致，商户补偿一次免费服务。",
)

# What the evaluator notes on a visit, by how it went.
EVALUATOR_NOTES_GOOD = ("暗访全程规范，主动告知工会优惠", "电话回访会员满意", "现场环境整洁，价格公示清楚",
                        "前台熟悉核销流程", "")
EVALUATOR_NOTES_BAD = ("暗访时店员称工会优惠已停止", "价格公示与平台不一致", "现场未公示工会优惠",
                       "电话回访多名会员反映额外收费", "卫生检查不合格")

# What members look for and do not find (demand the city's providers do not meet yet).
SEARCH_MISSES = (
    ("眼镜店", 14), ("配眼镜", 9), ("宠物医院", 11), ("理发", 13), ("少儿编程", 8), ("心理咨询", 10),
    ("钢琴课", 5), ("母婴用品", 6), ("体检 上门", 4), ("养老院", 7), ("康复理疗 医保", 4), ("篮球场", 6),
    ("网球", 5), ("电动车维修", 12), ("电动车换电", 9), ("开锁", 3), ("搬家", 6), ("月嫂", 7),
    ("足疗", 8), ("跆拳道", 5), ("滑雪", 6), ("话剧", 4), ("京剧票", 3), ("口腔种植", 5),
    ("雅思", 4), ("会计证", 5), ("叉车证", 6), ("健康证", 9), ("体检 夜间", 3), ("cinema imax 4k", 1),
)

# Policy and case words the seeded operators and providers wrote.
CASE_DELIST_EXPLANATION = "整改观察期内满意度和投诉率仍未达标，核实多起会员投诉属实，依规下架。"
CASE_KEEP_EXPLANATION = "商户已提交整改报告并更换店长，近两周投诉明显减少，暂不下架，继续观察30天。"
APPEAL_STATEMENT = ("我店已于上月更换全部前台人员并完成工会券核销培训，涉及的6名会员已全部退款并致歉，"
                    "附整改报告和退款凭证，恳请恢复上架并继续观察。")
