"""Static reference data: Beijing's districts, member groups and offer categories.
A plain data module: no I/O, no logic.

Coordinates are WGS-84 centres with a rough radius (km) chosen so that points drawn
within it stay inside the district's built-up area and inside Beijing.
"""

from typing import NotRequired, TypedDict

# The shapes of the nested data below, for the type checker.


class Node(TypedDict):
    code: str
    name_zh: str
    name_en: str


class District(Node):
    city_zh: NotRequired[str]  # outside Beijing
    lat: float
    lng: float
    radius_km: float
    weight: float
    subdistricts: list[tuple[str, str]]  # (name_zh, pinyin)
    roads: list[str]


class Branch(TypedDict):
    province: Node
    city: Node
    district: District
    grassroots: list[tuple[str, str, str]]  # (kind, name_zh, name_en)


# --- Federation ------------------------------------------------------------------

NATIONAL = {"code": "CN", "name_zh": "中华全国总工会", "name_en": "All-China Federation of Trade Unions"}

# Beijing is a municipality: its province and city are one node, at level "city".
BEIJING = {
    "code": "110000",
    "name_zh": "北京市总工会",
    "name_en": "Beijing Federation of Trade Unions",
    "city_zh": "北京市",
}

# A second, small branch so that scoping across provinces and cities can be shown.
HEBEI: Branch = {
    "province": {"code": "130000", "name_zh": "河北省总工会", "name_en": "Hebei Federation of Trade Unions"},
    "city": {"code": "130100", "name_zh": "石家庄市总工会", "name_en": "Shijiazhuang Federation of Trade Unions"},
    "district": {
        "code": "130102",
        "name_zh": "长安区",
        "name_en": "Chang'an",
        "city_zh": "河北省石家庄市",
        "lat": 38.0500,
        "lng": 114.5400,
        "radius_km": 3.0,
        "weight": 1.0,
        "subdistricts": [("建北街道", "Jianbei"), ("青园街道", "Qingyuan"), ("育才街道", "Yucai")],
        "roads": ["中山东路", "建设北大街", "胜利北街", "长安公园路"],
    },
    "grassroots": [
        ("H", "长安区快递行业联合工会", "Chang'an Express Delivery Industry Union"),
        ("G", "石家庄北国商城股份有限公司工会", "Shijiazhuang Beiguo Department Store Co., Ltd. Trade Union"),
        ("G", "石家庄市长安区育才街道联合工会", "Chang'an Yucai Subdistrict Joint Union"),
    ],
}

# The 16 districts of Beijing. `weight` is a rough share of the workforce, used to
# spread members and providers; `subdistricts` are (name_zh, pinyin) of real 街道/镇.
DISTRICTS: list[District] = [
    {
        "code": "110101",
        "name_zh": "东城区",
        "name_en": "Dongcheng",
        "lat": 39.9288,
        "lng": 116.4160,
        "radius_km": 3.0,
        "weight": 0.8,
        "subdistricts": [
            ("东华门街道", "Donghuamen"),
            ("景山街道", "Jingshan"),
            ("交道口街道", "Jiaodaokou"),
            ("安定门街道", "Andingmen"),
            ("北新桥街道", "Beixinqiao"),
            ("东四街道", "Dongsi"),
            ("朝阳门街道", "Chaoyangmen"),
            ("建国门街道", "Jianguomen"),
            ("东直门街道", "Dongzhimen"),
            ("和平里街道", "Hepingli"),
            ("前门街道", "Qianmen"),
            ("天坛街道", "Tiantan"),
        ],
        "roads": [
            "王府井大街",
            "东单北大街",
            "朝阳门内大街",
            "东直门内大街",
            "和平里西街",
            "崇文门外大街",
            "安定门外大街",
            "东四十条",
            "建国门内大街",
            "前门大街",
        ],
    },
    {
        "code": "110102",
        "name_zh": "西城区",
        "name_en": "Xicheng",
        "lat": 39.9123,
        "lng": 116.3660,
        "radius_km": 3.0,
        "weight": 1.2,
        "subdistricts": [
            ("西长安街街道", "Xichang'anjie"),
            ("新街口街道", "Xinjiekou"),
            ("月坛街道", "Yuetan"),
            ("展览路街道", "Zhanlanlu"),
            ("德胜街道", "Desheng"),
            ("金融街街道", "Jinrongjie"),
            ("什刹海街道", "Shichahai"),
            ("广安门内街道", "Guang'anmennei"),
            ("牛街街道", "Niujie"),
            ("白纸坊街道", "Baizhifang"),
            ("大栅栏街道", "Dashilan"),
        ],
        "roads": [
            "西单北大街",
            "金融大街",
            "阜成门内大街",
            "德胜门外大街",
            "月坛南街",
            "广安门内大街",
            "新街口外大街",
            "西直门外大街",
            "宣武门外大街",
            "车公庄大街",
        ],
    },
    {
        "code": "110105",
        "name_zh": "朝阳区",
        "name_en": "Chaoyang",
        "lat": 39.9400,
        "lng": 116.4900,
        "radius_km": 8.0,
        "weight": 3.5,
        "subdistricts": [
            ("望京街道", "Wangjing"),
            ("建外街道", "Jianwai"),
            ("呼家楼街道", "Hujialou"),
            ("三里屯街道", "Sanlitun"),
            ("朝外街道", "Chaowai"),
            ("劲松街道", "Jinsong"),
            ("潘家园街道", "Panjiayuan"),
            ("双井街道", "Shuangjing"),
            ("酒仙桥街道", "Jiuxianqiao"),
            ("麦子店街道", "Maizidian"),
            ("团结湖街道", "Tuanjiehu"),
            ("亚运村街道", "Yayuncun"),
            ("大屯街道", "Datun"),
            ("奥运村街道", "Aoyuncun"),
        ],
        "roads": [
            "阜通东大街",
            "建国路",
            "东三环中路",
            "工体北路",
            "朝阳北路",
            "酒仙桥路",
            "望京街",
            "北苑路",
            "广顺北大街",
            "光华路",
            "朝阳门外大街",
            "安立路",
        ],
    },
    {
        "code": "110106",
        "name_zh": "丰台区",
        "name_en": "Fengtai",
        "lat": 39.8500,
        "lng": 116.3200,
        "radius_km": 7.0,
        "weight": 2.0,
        "subdistricts": [
            ("丰台街道", "Fengtai"),
            ("方庄街道", "Fangzhuang"),
            ("右安门街道", "You'anmen"),
            ("马家堡街道", "Majiapu"),
            ("卢沟桥街道", "Lugouqiao"),
            ("新村街道", "Xincun"),
            ("东高地街道", "Donggaodi"),
            ("和义街道", "Heyi"),
            ("太平桥街道", "Taipingqiao"),
            ("大红门街道", "Dahongmen"),
        ],
        "roads": [
            "丰台北路",
            "南三环西路",
            "方庄路",
            "马家堡东路",
            "丰管路",
            "富丰路",
            "西四环南路",
            "万丰路",
            "角门路",
        ],
    },
    {
        "code": "110107",
        "name_zh": "石景山区",
        "name_en": "Shijingshan",
        "lat": 39.9060,
        "lng": 116.2230,
        "radius_km": 4.0,
        "weight": 0.6,
        "subdistricts": [
            ("八宝山街道", "Babaoshan"),
            ("老山街道", "Laoshan"),
            ("八角街道", "Bajiao"),
            ("古城街道", "Gucheng"),
            ("苹果园街道", "Pingguoyuan"),
            ("金顶街街道", "Jindingjie"),
            ("鲁谷街道", "Lugu"),
            ("广宁街道", "Guangning"),
        ],
        "roads": ["石景山路", "阜石路", "鲁谷路", "古城大街", "八角西街", "苹果园路", "杨庄大街"],
    },
    {
        "code": "110108",
        "name_zh": "海淀区",
        "name_en": "Haidian",
        "lat": 39.9800,
        "lng": 116.3050,
        "radius_km": 8.0,
        "weight": 3.2,
        "subdistricts": [
            ("中关村街道", "Zhongguancun"),
            ("海淀街道", "Haidian"),
            ("学院路街道", "Xueyuanlu"),
            ("北太平庄街道", "Beitaipingzhuang"),
            ("万寿路街道", "Wanshoulu"),
            ("羊坊店街道", "Yangfangdian"),
            ("清河街道", "Qinghe"),
            ("上地街道", "Shangdi"),
            ("西三旗街道", "Xisanqi"),
            ("马连洼街道", "Malianwa"),
            ("田村路街道", "Tiancunlu"),
            ("紫竹院街道", "Zizhuyuan"),
            ("北下关街道", "Beixiaguan"),
            ("甘家口街道", "Ganjiakou"),
        ],
        "roads": [
            "中关村大街",
            "海淀大街",
            "学院路",
            "知春路",
            "上地十街",
            "北四环西路",
            "西三环北路",
            "复兴路",
            "清河中街",
            "苏州街",
            "万泉河路",
            "北三环西路",
        ],
    },
    {
        "code": "110109",
        "name_zh": "门头沟区",
        "name_en": "Mentougou",
        "lat": 39.9400,
        "lng": 116.1050,
        "radius_km": 4.0,
        "weight": 0.4,
        "subdistricts": [
            ("大峪街道", "Dayu"),
            ("城子街道", "Chengzi"),
            ("东辛房街道", "Dongxinfang"),
            ("大台街道", "Datai"),
            ("龙泉镇", "Longquan"),
            ("永定镇", "Yongding"),
            ("潭柘寺镇", "Tanzhesi"),
        ],
        "roads": ["新桥大街", "滨河路", "黑山大街", "石龙南路", "双峪路", "门头沟路"],
    },
    {
        "code": "110111",
        "name_zh": "房山区",
        "name_en": "Fangshan",
        "lat": 39.7350,
        "lng": 116.1400,
        "radius_km": 8.0,
        "weight": 1.2,
        "subdistricts": [
            ("城关街道", "Chengguan"),
            ("拱辰街道", "Gongchen"),
            ("西潞街道", "Xilu"),
            ("长阳镇", "Changyang"),
            ("良乡镇", "Liangxiang"),
            ("阎村镇", "Yancun"),
            ("窦店镇", "Doudian"),
            ("迎风街道", "Yingfeng"),
        ],
        "roads": ["拱辰大街", "苏庄大街", "长政南街", "政通路", "西潞大街", "昊天大街", "良乡西路"],
    },
    {
        "code": "110112",
        "name_zh": "通州区",
        "name_en": "Tongzhou",
        "lat": 39.9050,
        "lng": 116.6600,
        "radius_km": 8.0,
        "weight": 1.7,
        "subdistricts": [
            ("中仓街道", "Zhongcang"),
            ("新华街道", "Xinhua"),
            ("北苑街道", "Beiyuan"),
            ("玉桥街道", "Yuqiao"),
            ("永顺镇", "Yongshun"),
            ("梨园镇", "Liyuan"),
            ("潞城镇", "Lucheng"),
            ("宋庄镇", "Songzhuang"),
            ("台湖镇", "Taihu"),
        ],
        "roads": ["新华大街", "新华西街", "玉桥中路", "梨园路", "九棵树东路", "运河东大街", "通胡大街", "车站路"],
    },
    {
        "code": "110113",
        "name_zh": "顺义区",
        "name_en": "Shunyi",
        "lat": 40.1300,
        "lng": 116.6550,
        "radius_km": 8.0,
        "weight": 1.3,
        "subdistricts": [
            ("胜利街道", "Shengli"),
            ("光明街道", "Guangming"),
            ("石园街道", "Shiyuan"),
            ("空港街道", "Konggang"),
            ("双丰街道", "Shuangfeng"),
            ("旺泉街道", "Wangquan"),
            ("仁和镇", "Renhe"),
            ("后沙峪镇", "Houshayu"),
        ],
        "roads": ["府前中街", "新顺南大街", "光明北街", "站前北街", "裕民大街", "顺安南路"],
    },
    {
        "code": "110114",
        "name_zh": "昌平区",
        "name_en": "Changping",
        "lat": 40.1400,
        "lng": 116.3000,
        "radius_km": 9.0,
        "weight": 2.0,
        "subdistricts": [
            ("城北街道", "Chengbei"),
            ("城南街道", "Chengnan"),
            ("回龙观街道", "Huilongguan"),
            ("天通苑北街道", "Tiantongyuanbei"),
            ("天通苑南街道", "Tiantongyuannan"),
            ("霍营街道", "Huoying"),
            ("史各庄街道", "Shigezhuang"),
            ("东小口镇", "Dongxiaokou"),
            ("南口镇", "Nankou"),
            ("沙河镇", "Shahe"),
        ],
        "roads": ["政府街", "鼓楼南街", "回龙观西大街", "立汤路", "育知东路", "昌平路", "北清路", "南环路"],
    },
    {
        "code": "110115",
        "name_zh": "大兴区",
        "name_en": "Daxing",
        "lat": 39.7600,
        "lng": 116.3400,
        "radius_km": 8.0,
        "weight": 1.8,
        "subdistricts": [
            ("兴丰街道", "Xingfeng"),
            ("林校路街道", "Linxiaolu"),
            ("清源街道", "Qingyuan"),
            ("观音寺街道", "Guanyinsi"),
            ("天宫院街道", "Tiangongyuan"),
            ("高米店街道", "Gaomidian"),
            ("旧宫镇", "Jiugong"),
            ("西红门镇", "Xihongmen"),
            ("黄村镇", "Huangcun"),
            ("亦庄镇", "Yizhuang"),
        ],
        "roads": ["兴华大街", "林校路", "兴政街", "黄村西大街", "金星路", "欣宁街", "旧宫东路", "宏业路"],
    },
    {
        "code": "110116",
        "name_zh": "怀柔区",
        "name_en": "Huairou",
        "lat": 40.3200,
        "lng": 116.6300,
        "radius_km": 5.0,
        "weight": 0.4,
        "subdistricts": [
            ("泉河街道", "Quanhe"),
            ("龙山街道", "Longshan"),
            ("怀柔镇", "Huairou"),
            ("雁栖镇", "Yanqi"),
            ("庙城镇", "Miaocheng"),
            ("杨宋镇", "Yangsong"),
        ],
        "roads": ["青春路", "府前街", "迎宾路", "开放路", "南华大街", "雁栖大街"],
    },
    {
        "code": "110117",
        "name_zh": "平谷区",
        "name_en": "Pinggu",
        "lat": 40.1400,
        "lng": 117.1200,
        "radius_km": 5.0,
        "weight": 0.4,
        "subdistricts": [
            ("滨河街道", "Binhe"),
            ("兴谷街道", "Xinggu"),
            ("平谷镇", "Pinggu"),
            ("马坊镇", "Mafang"),
            ("金海湖镇", "Jinhaihu"),
            ("王辛庄镇", "Wangxinzhuang"),
        ],
        "roads": ["府前街", "新平北路", "平翔路", "林荫北街", "建设街", "迎宾街"],
    },
    {
        "code": "110118",
        "name_zh": "密云区",
        "name_en": "Miyun",
        "lat": 40.3760,
        "lng": 116.8430,
        "radius_km": 5.0,
        "weight": 0.5,
        "subdistricts": [
            ("鼓楼街道", "Gulou"),
            ("果园街道", "Guoyuan"),
            ("檀营地区", "Tanying"),
            ("西田各庄镇", "Xitiangezhuang"),
            ("十里堡镇", "Shilipu"),
            ("溪翁庄镇", "Xiwengzhuang"),
        ],
        "roads": ["鼓楼东大街", "新中街", "滨河路", "西门外大街", "新南路", "阳光街"],
    },
    {
        "code": "110119",
        "name_zh": "延庆区",
        "name_en": "Yanqing",
        "lat": 40.4600,
        "lng": 115.9800,
        "radius_km": 5.0,
        "weight": 0.3,
        "subdistricts": [
            ("儒林街道", "Rulin"),
            ("百泉街道", "Baiquan"),
            ("香水园街道", "Xiangshuiyuan"),
            ("延庆镇", "Yanqing"),
            ("康庄镇", "Kangzhuang"),
            ("八达岭镇", "Badaling"),
        ],
        "roads": ["妫水北街", "东外大街", "湖南东路", "高塔街", "庆园街", "康安路"],
    },
]

# Beijing's bounding box (for checks): every generated Beijing coordinate is inside.
BEIJING_BBOX = {"lat": (39.4, 41.1), "lng": (115.4, 117.5)}

# Grassroots unions of the gig economy, one set per district ("{d}" = 朝阳区 / Chaoyang).
GIG_UNIONS = [
    ("{d}快递行业联合工会", "{d_en} Express Delivery Industry Union"),
    ("{d}网约配送员工会联合会", "{d_en} Food Delivery Riders' Union"),
    ("{d}网约车驾驶员工会", "{d_en} Ride-hailing Drivers' Union"),
    ("{d}货车司机工会", "{d_en} Truck Drivers' Union"),
    ("{d}家政服务业联合工会", "{d_en} Domestic Services Industry Union"),
]

# Well-known employers by district (their unions are grassroots unions).
KNOWN_EMPLOYERS = {
    "110101": [
        ("北京王府井百货(集团)股份有限公司工会", "Beijing Wangfujing Department Store (Group) Co., Ltd. Trade Union"),
        ("北京同仁堂股份有限公司工会", "Beijing Tong Ren Tang Co., Ltd. Trade Union"),
    ],
    "110102": [
        ("北京银行股份有限公司工会", "Bank of Beijing Co., Ltd. Trade Union"),
        ("北京金融街控股股份有限公司工会", "Beijing Financial Street Holding Co., Ltd. Trade Union"),
        ("北京西单商场股份有限公司工会", "Beijing Xidan Department Store Co., Ltd. Trade Union"),
    ],
    "110105": [
        ("北京京东方科技集团股份有限公司工会", "BOE Technology Group Co., Ltd. Trade Union"),
        ("北京燕莎友谊商城有限公司工会", "Beijing Yansha Friendship Shopping City Co., Ltd. Trade Union"),
        ("北京北辰实业股份有限公司工会", "Beijing North Star Co., Ltd. Trade Union"),
    ],
    "110107": [("首钢集团有限公司工会", "Shougang Group Co., Ltd. Trade Union")],
    "110108": [
        ("联想(北京)有限公司工会", "Lenovo (Beijing) Co., Ltd. Trade Union"),
        ("北京百度网讯科技有限公司工会", "Beijing Baidu Netcom Science and Technology Co., Ltd. Trade Union"),
        ("北京字节跳动科技有限公司工会", "Beijing ByteDance Technology Co., Ltd. Trade Union"),
    ],
    "110111": [("中国石化北京燕山分公司工会", "Sinopec Beijing Yanshan Company Trade Union")],
    "110113": [
        ("北京首都国际机场股份有限公司工会", "Beijing Capital International Airport Co., Ltd. Trade Union"),
        ("北京现代汽车有限公司工会", "Beijing Hyundai Motor Co., Ltd. Trade Union"),
    ],
    "110114": [("北汽福田汽车股份有限公司工会", "Beiqi Foton Motor Co., Ltd. Trade Union")],
    "110115": [
        ("北京京东世纪贸易有限公司工会", "Beijing Jingdong Century Trading Co., Ltd. Trade Union"),
        ("北京奔驰汽车有限公司工会", "Beijing Benz Automotive Co., Ltd. Trade Union"),
    ],
}

# Public institutions ("{d}" = 朝阳区): schools, hospitals, public services.
PUBLIC_INSTITUTIONS = [
    ("北京市{d}中医医院工会", "Beijing {d_en} Hospital of Traditional Chinese Medicine Union"),
    ("北京市{d}妇幼保健院工会", "Beijing {d_en} Maternal and Child Health Hospital Union"),
    ("北京市{d}环境卫生服务中心工会", "Beijing {d_en} Sanitation Service Centre Union"),
    ("北京市{d}实验小学工会", "Beijing {d_en} Experimental Primary School Union"),
    ("北京市{d}第二中学工会", "Beijing {d_en} No. 2 Middle School Union"),
    ("北京市{d}社区卫生服务中心工会", "Beijing {d_en} Community Health Service Centre Union"),
    ("北京市{d}公共交通服务中心工会", "Beijing {d_en} Public Transport Service Centre Union"),
]

# Parts of generated company names: 字号 (with pinyin), industry, company form.
COMPANY_WORDS = [
    ("华信", "Huaxin"),
    ("中科", "Zhongke"),
    ("恒远", "Hengyuan"),
    ("金泰", "Jintai"),
    ("鑫源", "Xinyuan"),
    ("瑞达", "Ruida"),
    ("宏图", "Hongtu"),
    ("天成", "Tiancheng"),
    ("博雅", "Boya"),
    ("嘉禾", "Jiahe"),
    ("东方", "Dongfang"),
    ("安泰", "Antai"),
    ("永昌", "Yongchang"),
    ("汇通", "Huitong"),
    ("鼎盛", "Dingsheng"),
    ("润泽", "Runze"),
    ("盛世", "Shengshi"),
    ("新兴", "Xinxing"),
    ("远洋", "Yuanyang"),
    ("京华", "Jinghua"),
    ("燕京", "Yanjing"),
    ("首信", "Shouxin"),
    ("正阳", "Zhengyang"),
    ("长城", "Changcheng"),
    ("华夏", "Huaxia"),
    ("海纳", "Haina"),
    ("卓越", "Zhuoyue"),
    ("明德", "Mingde"),
    ("利丰", "Lifeng"),
    ("佳美", "Jiamei"),
    ("同创", "Tongchuang"),
    ("凯旋", "Kaixuan"),
    ("众合", "Zhonghe"),
    ("万通", "Wantong"),
    ("和信", "Hexin"),
    ("锦程", "Jincheng"),
    ("创元", "Chuangyuan"),
    ("泰和", "Taihe"),
    ("通达", "Tongda"),
    ("天宇", "Tianyu"),
    ("信达", "Xinda"),
    ("兴业", "Xingye"),
    ("百川", "Baichuan"),
    ("泓景", "Hongjing"),
    ("思创", "Sichuang"),
    ("睿智", "Ruizhi"),
    ("尚品", "Shangpin"),
    ("优联", "Youlian"),
    ("智远", "Zhiyuan"),
    ("云帆", "Yunfan"),
    ("蓝海", "Lanhai"),
    ("星河", "Xinghe"),
    ("君安", "Jun'an"),
    ("德润", "Derun"),
    ("国瑞", "Guorui"),
    ("力行", "Lixing"),
    ("厚德", "Houde"),
    ("华彩", "Huacai"),
    ("启明", "Qiming"),
    ("金桥", "Jinqiao"),
]
COMPANY_INDUSTRIES = [
    ("科技", "Technology"),
    ("信息技术", "Information Technology"),
    ("软件", "Software"),
    ("网络科技", "Network Technology"),
    ("物流", "Logistics"),
    ("建筑工程", "Construction Engineering"),
    ("物业管理", "Property Management"),
    ("餐饮管理", "Catering Management"),
    ("商贸", "Trading"),
    ("医药", "Pharmaceutical"),
    ("汽车销售服务", "Automobile Sales and Service"),
    ("文化传媒", "Culture and Media"),
    ("环保科技", "Environmental Technology"),
    ("机械设备", "Machinery and Equipment"),
    ("电子", "Electronics"),
    ("印刷", "Printing"),
    ("食品", "Food"),
    ("服装", "Garment"),
    ("酒店管理", "Hotel Management"),
    ("保安服务", "Security Services"),
    ("家政服务", "Domestic Services"),
    ("人力资源", "Human Resources"),
]
COMPANY_FORMS = [
    ("有限公司", "Co., Ltd.", 70),
    ("股份有限公司", "Co., Ltd.", 12),
    ("有限责任公司", "Co., Ltd.", 10),
    ("集团有限公司", "Group Co., Ltd.", 8),
]

# --- Members ---------------------------------------------------------------------

MEMBER_GROUPS = [
    {"code": "women", "name_zh": "女职工", "name_en": "Women workers"},
    {"code": "gig", "name_zh": "新就业形态劳动者", "name_en": "Gig workers"},
    {"code": "migrant", "name_zh": "农民工", "name_en": "Migrant workers"},
    {"code": "hardship", "name_zh": "困难职工", "name_en": "Workers in hardship"},
    {"code": "model_worker", "name_zh": "劳动模范", "name_en": "Model workers"},
    {"code": "veteran", "name_zh": "退役军人", "name_en": "Veterans"},
]

# Area codes printed in the ID numbers of members born outside Beijing (where their
# hukou was first registered); the Beijing ones include codes of former counties.
ID_AREAS_BEIJING_EXTRA = [
    "110103",
    "110104",
    "110221",
    "110222",
    "110223",
    "110224",
    "110225",
    "110226",
    "110227",
    "110228",
    "110229",
]
ID_AREAS_ELSEWHERE = [
    "130102",
    "130203",
    "130602",
    "131002",
    "130402",  # Hebei
    "410102",
    "411302",
    "411602",
    "410302",  # Henan
    "370102",
    "370202",
    "371302",
    "370702",  # Shandong
    "340102",
    "341202",
    "340302",  # Anhui
    "510104",
    "511302",
    "500101",  # Sichuan, Chongqing
    "420102",
    "430102",
    "360102",  # Hubei, Hunan, Jiangxi
    "140105",
    "150102",
    "210102",
    "220102",
    "230102",
    "120101",
    "320102",
    "330102",
    "350102",
    "440103",
    "450102",
    "520102",
    "530102",
    "610102",
    "620102",
]

# Mobile prefixes of the three carriers (192 is kept out: see seed.DEMO_MEMBER).
PHONE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "175",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

# --- Catalogue -------------------------------------------------------------------

CATEGORIES = [
    {"code": "fitness", "name_zh": "健身运动", "name_en": "Fitness"},
    {"code": "health_checkup", "name_zh": "健康体检", "name_en": "Health checkups"},
    {"code": "medical", "name_zh": "医疗服务", "name_en": "Medical care"},
    {"code": "dining", "name_zh": "餐饮美食", "name_en": "Dining"},
    {"code": "cinema", "name_zh": "电影演出", "name_en": "Cinema and shows"},
    {"code": "training", "name_zh": "技能培训", "name_en": "Skills training"},
    {"code": "shopping", "name_zh": "购物", "name_en": "Shopping"},
    {"code": "travel", "name_zh": "出行", "name_en": "Travel and transport"},
    {"code": "childcare", "name_zh": "托育服务", "name_en": "Childcare"},
    {"code": "housekeeping", "name_zh": "家政服务", "name_en": "Home services"},
    {"code": "leisure", "name_zh": "休闲旅游", "name_en": "Leisure and tourism"},
    {"code": "legal", "name_zh": "法律咨询", "name_en": "Legal advice"},
]

OFFER_KINDS = ["voucher", "paid", "points", "slot", "prepaid"]

# What each kind of business sells, and the words of the demo's history: marketplace/seed/catalogue.py.
