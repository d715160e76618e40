"""Normalisation, words, pinyin and corrections of queries and documents (no components)."""

import pytest

from catalog.search import breaker, text

pytestmark = pytest.mark.unit


def test_queries_and_documents_are_normalised_alike():
    assert text.normalise("  游泳館  ＹＯＧＡ ") == "游泳馆 yoga"
    assert text.normalise("體檢") == "体检"


def test_words_inside_compounds_and_their_pinyin():
    words_zh, pinyin = text.word_fields("游泳馆年卡", ("游泳",))
    assert "游泳" in words_zh.split() and "泳" in words_zh.split()
    assert {"youyong", "yy", "youyongguan", "yyg"} <= set(pinyin.split())
    words_zh, pinyin = text.word_fields("口腔检查及洁牙预约")
    assert "牙" in words_zh.split() and "及" not in words_zh.split()
    assert "kqjcjjyyy" in pinyin.split()


def test_a_tag_every_offer_carries_adds_no_sub_words_but_a_title_keeps_its_own():
    words_zh, pinyin = text.word_fields("日常保洁服务", ("会员价", "上门服务", "家政服务"))
    assert {"上门", "上门服务", "家政"} <= set(words_zh.split())
    assert not {"会员", "会员价"} & set(words_zh.split())
    assert {"shangmen", "sm", "jiazheng", "jz"} <= set(pinyin.split())
    assert not {"huiyuan", "huiyuanjia", "hyj"} & set(pinyin.split())
    words_zh, pinyin = text.word_fields("会员体检套餐", ("会员价",))
    assert "会员" in words_zh.split() and "huiyuan" in pinyin.split()


def test_a_word_that_sounds_right_is_corrected_and_a_known_one_is_not():
    vocabulary = text.Vocabulary(["游泳馆年卡", "健身房月卡", "Yoga trial class"], ["dentist", "massage"])
    assert vocabulary.correct("游永") == "游泳"
    assert vocabulary.correct("建身") == "健身"
    assert vocabulary.correct("游泳") is None and vocabulary.correct("泳") is None
    assert vocabulary.knows("游泳") and vocabulary.knows("健身 游泳")
    assert not vocabulary.knows("游永") and not vocabulary.knows("泳")  # a single character is no word
    assert vocabulary.correct_latin("dentst") == "dentist"
    assert vocabulary.correct_latin("massage") is None  # found as typed: nothing to correct
    assert vocabulary.correct_latin("xyz") is None


def test_synonyms_come_from_the_data_file_both_ways():
    synonyms = text.synonym_settings(text.load_synonyms())
    assert "洁牙" in synonyms["洗牙"] and "洗牙" in synonyms["洁牙"]
    assert "法律咨询" in synonyms["律师"]


def test_a_description_adds_its_own_words_but_not_the_rules_every_offer_states():
    from catalog.search import index

    fields = index.search_fields(
        {
            "title_zh": "法律咨询（30分钟）",
            "title_en": "Legal advice (30 minutes)",
            "tags": ["会员价"],
            "category_zh": "法律服务",
            "description_zh": "律师解答工伤认定与劳动仲裁问题。门市价200.00元，会员价50.00元。到店出示电子券核销，每位会员限1次。",
            "description_en": "A lawyer answers questions on work injury. Show the code at the counter; limit 1 per member.",
        }
    )
    words = fields["description"].split()
    assert {"律师", "工伤", "认定", "劳动", "仲裁", "lawyer", "injury"} <= set(words)
    assert not {"会员", "会员价", "门市价", "出示", "核销", "每位", "the", "per", "member", "counter"} & set(words)
    assert "会员" in text.stop_words() and "工伤" not in text.stop_words()


def test_a_week_of_opening_hours_is_one_value_read_back_by_day_and_minute():
    from catalog.search import index

    week = {"mon": ["08:00", "20:00"], "sat": ["22:00", "02:00"], "sun": "closed", "tue": ["9h", "18:00"]}
    key = index.opening_key(week)
    assert key == "480-1200,,,,,1320-1440,"
    assert index.opening_key('{"mon": ["08:00", "20:00"]}') == "480-1200,,,,,,"  # JSONB read as text
    assert index.opening_key("not json") == index.opening_key({}) == ",,,,,,"
    assert index.open_at(key, "mon", 480) and index.open_at(key, "mon", 1199)
    assert not index.open_at(key, "mon", 479) and not index.open_at(key, "mon", 1200)
    assert index.open_at(key, "sat", 1439)  # past midnight counts to the end of the day
    assert not index.open_at(key, "tue", 600)  # a time it could not read: closed, not open
    assert not index.open_at(key, "sun", 600) and not index.open_at("", "mon", 600)


def test_edit_distance_counts_a_swap_as_one():
    assert text.edit_distance("youyogn", "youyong") == 1
    assert text.edit_distance("abc", "abc") == 0 and text.edit_distance("", "ab") == 2


def test_the_breaker_opens_on_errors_probes_once_and_closes(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(breaker.time, "monotonic", lambda: clock[0])
    b = breaker.Breaker(failures_to_open=3, open_seconds=5)
    b.failed(), b.failed()
    assert b.state == "closed" and b.allow()
    b.failed()
    assert b.state == "open" and not b.allow()
    clock[0] += 5
    assert b.state == "half-open"
    assert b.allow() and not b.allow()  # one probe at a time
    b.failed()
    assert b.state == "open"
    clock[0] += 5
    assert b.allow()
    b.succeeded()
    assert b.state == "closed" and b.allow()
