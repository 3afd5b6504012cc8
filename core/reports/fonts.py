"""Fonts that hold every character a report prints.

Latin text (with Polish and Romanian letters) is set in DejaVu Sans, which matplotlib ships. Chinese
is set in Noto Sans CJK SC from the PyPI package noto-cjk-sans-otc (OFL), installed by the set-up
with the requirements. reportlab embeds TrueType outlines only and Noto Sans CJK's are PostScript
(CFF), so each PDF gets a subset of just the characters it prints, converted to TrueType with
fontTools: a year's Chinese report embeds a few hundred glyphs, not a 19 MB collection.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import re
from functools import lru_cache

CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
NOTO_FACE = 2  # Noto Sans CJK SC in NotoSansCJK-Regular.ttc (JP, KR, SC, TC, HK, then the Mono faces)
NOTO_FAMILY = "Noto Sans CJK SC"
# Word picks the East Asian font by name on the reader's machine: Microsoft YaHei ships with Windows.
EAST_ASIAN_FONT = "Microsoft YaHei"
CSS_FONT_STACK = ("-apple-system, 'Segoe UI', Helvetica, Arial, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', "
                  "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', sans-serif")


def noto_cjk_path() -> str | None:
    spec = importlib.util.find_spec("noto_cjk_sans_otc")
    if spec is None or not spec.origin:
        return None
    path = os.path.join(os.path.dirname(spec.origin), "NotoSansCJK-Regular.ttc")
    return path if os.path.exists(path) else None


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


def _dejavu() -> tuple[str, str]:
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "DejaVuSans" not in pdfmetrics.getRegisteredFontNames():
        folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
        pdfmetrics.registerFont(TTFont("DejaVuSans", os.path.join(folder, "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", os.path.join(folder, "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold", italic="DejaVuSans", boldItalic="DejaVuSans-Bold")
    return "DejaVuSans", "DejaVuSans-Bold"


def pdf_fonts(text: str) -> tuple[str, str]:
    """(regular, bold) reportlab font names for a report printing `text`: DejaVu Sans, or a
    TrueType subset of Noto Sans CJK SC holding every character of `text` when it has Chinese."""
    path = noto_cjk_path()
    if not has_cjk(text) or path is None:
        return _dejavu()
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    characters = "".join(sorted(set(text) | set(" -–—…“”‘’•%+()[]:;,./0123456789")))  # with the bullet the lists draw
    name = "NotoSansCJKSC-" + hashlib.sha1(characters.encode()).hexdigest()[:12]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, io.BytesIO(_truetype_subset(path, characters))))
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    return name, name  # the collection has no bold face: headings are set larger instead


@lru_cache(maxsize=16)
def _truetype_subset(path: str, characters: str) -> bytes:
    """The glyphs of `characters` from the collection's SC face, as a TrueType font."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=NOTO_FACE, lazy=False)
    subsetter = subset.Subsetter(subset.Options(layout_features=["*"], name_IDs=["*"], notdef_outline=True, glyph_names=False))
    subsetter.populate(text=characters)
    subsetter.subset(font)
    _cff_to_glyf(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def _cff_to_glyf(font) -> None:
    """PostScript (cubic) outlines to TrueType (quadratic) ones, in place: fontTools' otf2ttf recipe."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions"):
        setattr(maxp, field, 1 if field == "maxZones" else 0)
    maxp.maxComponentElements = max((len(getattr(g, "components", [])) for g in glyphs.values()), default=0)
    maxp.compile(font)
    post = font["post"]
    post.formatType, post.extraNames, post.mapping, post.glyphOrder = 2.0, [], {}, order
    font.sfntVersion = "\000\001\000\000"


@lru_cache(maxsize=1)
def _register_chart_font() -> bool:
    path = noto_cjk_path()
    if path is None:
        return False
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    return True


def chart_font(text: str) -> list[str]:
    """matplotlib's font families for a chart of `text`: DejaVu Sans, falling back to Noto Sans CJK SC for Chinese."""
    if has_cjk(text) and _register_chart_font():
        return ["DejaVu Sans", NOTO_FAMILY]
    return ["DejaVu Sans"]
