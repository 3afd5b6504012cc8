"""Files in the shapes real exports have: ratings in words and stars, no header row, a Google Play
export in Indonesian. The texts are written here; the shapes (column names, rating scales) are the
exporters' own: Douban's short comments, google-play-scraper's eleven columns."""
import json

import pandas as pd
import pytest

from core.columns import propose_roles
from core.ingest import read_table
from core.ratings import rating_value
from tests.conftest import run_cli

DOUBAN = [
    ("力荐", "故事讲得非常动人，演员的表演也很到位，看完久久不能平静"),
    ("推荐", "画面很美，配乐也好听，就是中间有一点点拖沓"),
    ("还行", "中规中矩吧，没有特别惊艳的地方，打发时间可以"),
    ("较差", "剧情漏洞太多，看到一半就想走了，有点失望"),
    ("很差", "浪费钱也浪费时间，演技尴尬，剧本混乱，不推荐任何人看"),
    ("力荐", "今年看过最好的电影，每个细节都很用心，一定要去影院看"),
    ("推荐", "节奏明快，笑点密集，全家一起看很开心"),
    ("很差", "特效廉价，台词生硬，完全看不下去，强烈不推荐"),
    ("较差", "宣传得很好，实际内容很空洞，结尾也很仓促"),
    ("力荐", "导演功力深厚，摄影和剪辑都是一流水准，值得二刷"),
    ("推荐", "男主演得很自然，故事温暖治愈，看完心情很好"),
    ("很差", "烂片一部，逻辑混乱，看得我直打瞌睡"),
    ("还行", "前半段不错，后半段有点崩，整体还算可以"),
    ("较差", "太吵了，打斗场面重复，没有什么新意，有点无聊"),
    ("力荐", "感人至深，哭了好几次，强烈推荐给所有人"),
    ("很差", "看完只想退票，剧情莫名其妙，演员也不用心"),
    ("推荐", "很有创意的科幻片，视觉效果震撼，值得一看"),
    ("较差", "人物动机说不通，对白又长又闷，失望"),
    ("力荐", "完美的结局，伏笔回收得很漂亮，编剧太厉害了"),
    ("很差", "一星都嫌多，粗制滥造，毫无诚意"),
]
INDONESIAN = [
    (5, "Aplikasinya bagus sekali dan sangat membantu pekerjaan saya setiap hari"),
    (1, "Sering error dan tidak bisa login sejak update terakhir, tolong diperbaiki"),
    (4, "Lumayan bagus tapi iklannya terlalu banyak dan sangat mengganggu"),
    (5, "Mantap, pengiriman pesan jadi lebih cepat dan mudah digunakan"),
    (1, "Aplikasi sering keluar sendiri waktu dibuka, sangat mengecewakan"),
    (2, "Setelah pembaruan, notifikasi tidak muncul lagi di ponsel saya"),
    (5, "Saya suka fitur barunya, tampilannya bersih dan tidak membingungkan"),
    (1, "Akun saya diblokir tanpa alasan yang jelas, layanan pelanggan tidak membalas"),
    (4, "Bagus, tapi kadang lambat kalau jaringan sedang tidak stabil"),
    (3, "Biasa saja, fiturnya standar dan tidak ada yang istimewa"),
    (5, "Terima kasih, aplikasi ini sangat berguna untuk usaha kecil saya"),
    (1, "Uang saya sudah terpotong tetapi saldo tidak bertambah sama sekali"),
    (2, "Baterai cepat habis sejak memakai aplikasi ini, tolong diperbaiki"),
    (5, "Pelayanannya ramah dan masalah saya langsung diselesaikan dengan baik"),
    (1, "Tidak bisa mendaftar, kode verifikasi tidak pernah dikirim ke nomor saya"),
    (4, "Cukup membantu, semoga ke depannya ada mode gelap"),
    (5, "Sangat puas, semua berjalan lancar tanpa kendala apa pun"),
    (1, "Jelek sekali, setiap kali membuka aplikasi langsung macet dan berhenti"),
    (3, "Kadang bagus kadang tidak, tergantung sinyal di tempat saya"),
    (5, "Aplikasi terbaik yang pernah saya pakai untuk belajar bahasa"),
]


def play_export(rows) -> pd.DataFrame:
    """google-play-scraper's own columns, as its reviews() returns them."""
    return pd.DataFrame(
        [
            {
                "reviewId": f"gp:AOqpTO{i:04d}",
                "userName": f"Pengguna {i}",
                "userImage": f"https://play-lh.googleusercontent.com/a/{i}",
                "content": text,
                "score": score,
                "thumbsUpCount": i % 7,
                "reviewCreatedVersion": "4.2.1",
                "at": f"2026-0{1 + i % 9}-1{i % 9} 10:{i % 60:02d}:00",
                "replyContent": "",
                "repliedAt": "",
                "appVersion": "4.2.1",
            }
            for i, (score, text) in enumerate(rows * 3)
        ]
    )


@pytest.mark.parametrize(
    "cell, value",
    [
        ("力荐", 5),
        ("还行", 3),
        ("很差", 1),
        ("★★★★☆", 4),
        ("★★☆☆☆", 2),
        ("⭐⭐⭐", 3),
        ("4/5", 4),
        ("8/10", 4),
        ("4,5", 4.5),
        ("5 stars", 5),
        ("1 star", 1),
        ("4 out of 5", 4),
        ("3 din 5", 3),
        ("2 z 5", 2),
        ("五星", 5),
        ("4星", 4),
        ("Doskonały", 5),
        ("Foarte bine", 4),
        ("7", 7),
        ("great", None),
        ("", None),
    ],
)
def test_ratings_are_read_in_the_forms_exports_write_them(cell, value):
    assert rating_value(cell) == value


@pytest.mark.parametrize("scale", [["★★★★★", "★☆☆☆☆", "★★★☆☆", "★★★★☆"], ["5/5", "1/5", "3/5", "4/5"], ["5 stars", "1 star", "3 stars", "4 stars"]])
def test_a_column_of_stars_fractions_or_star_words_is_the_rating(scale):
    frame = pd.DataFrame(
        {
            "review": [
                f"{text} number {i}"
                for i, text in enumerate(["Loved it, works perfectly", "Broke in a day, awful", "It is fine I guess", "Good value, quick delivery"] * 8)
            ],
            "Stars given": scale * 8,
        }
    )
    assert propose_roles(frame).roles["rating"].column == "Stars given"


@pytest.mark.slow
def test_a_douban_export_is_read_with_its_word_ratings_and_checked_against_them(tmp_path):
    path = tmp_path / "douban.csv"
    rows = [
        {"用户名": f"用户{i}", "评分": rating, "短评": f"{text}（第{i}条）", "评论时间": f"2026-10-{1 + i % 28:02d} 20:1{i % 10}:00", "有用": i % 13}
        for i, (rating, text) in enumerate(DOUBAN * 2)
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    result = run_cli("sentiment", path, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mapping"]["rating"] == "评分" and summary["mapping"]["text"] == "短评"
    agreement = summary["rating_agreement"]
    assert agreement is not None and agreement["clear_rows"] == 36  # 力荐 and 推荐 against 较差 and 很差; 还行 is the middle


def test_a_file_with_no_header_keeps_every_row_and_finds_the_review_text(tmp_path):
    path = tmp_path / "scrape.csv"
    play_export(INDONESIAN).to_csv(path, index=False, header=False)
    table = read_table(path)
    assert table.headerless and len(table.frame) == 60
    assert table.frame["column 4"].iloc[0] == INDONESIAN[0][1]  # the first line is a review, not a header
    mapping = propose_roles(table.frame)
    assert mapping.roles["text"].column == "column 4"
    assert mapping.roles["rating"].column == "column 5" and mapping.roles["date"].column == "column 8"
    assert "reads as data, not as column names" in str(table.header_note())


@pytest.mark.slow
def test_a_google_play_export_in_indonesian_is_counted_and_named_as_indonesian(tmp_path):
    path = tmp_path / "reviews.csv"
    play_export(INDONESIAN).to_csv(path, index=False)
    result = run_cli("sentiment", path, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mapping"]["text"] == "content" and summary["mapping"]["rating"] == "score"
    # Most as Indonesian, a few as Malay (its sibling, hard to tell on one line); none forced into Turkish, Swedish or Romanian.
    assert summary["languages"].get("id", 0) >= 48
    assert set(summary["languages"]) <= {"id", "ms"}
    assert "Indonesian" in summary["language_notice"]
