"""Built-in word lists of query understanding: colours, price words, Chinese product terms, modifiers.

These are language facts, not catalogue facts: the catalogue decides which brands and categories exist,
and a Chinese term or an English synonym only maps to a category or brand that the catalogue has
(:class:`~shelfwise.search.query.vocabulary.CatalogueVocabulary` checks). Every table can be extended
from :class:`~shelfwise.search.query.config.QueryParserConfig` without editing this module.

Example:
    >>> COLOURS["gray"], COLOURS["红色"], COLOURS["navy"]
    ('grey', 'red', 'navy blue')
"""

from __future__ import annotations

from typing import Final


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a frozenset (for word lists written as prose)."""
    return frozenset(text.split())


#: Colour words (English and Chinese) -> canonical English colour name.
COLOURS: Final[dict[str, str]] = {
    # English
    "black": "black",
    "white": "white",
    "red": "red",
    "blue": "blue",
    "navy": "navy blue",
    "navy blue": "navy blue",
    "light blue": "light blue",
    "sky blue": "light blue",
    "baby blue": "light blue",
    "dark blue": "navy blue",
    "royal blue": "blue",
    "teal": "teal",
    "turquoise": "turquoise",
    "aqua": "turquoise",
    "cyan": "turquoise",
    "green": "green",
    "dark green": "green",
    "lime": "lime",
    "lime green": "lime",
    "olive": "olive",
    "olive green": "olive",
    "khaki": "khaki",
    "yellow": "yellow",
    "mustard": "yellow",
    "orange": "orange",
    "pink": "pink",
    "hot pink": "pink",
    "rose": "pink",
    "rose gold": "rose gold",
    "purple": "purple",
    "violet": "purple",
    "lavender": "purple",
    "magenta": "magenta",
    "maroon": "maroon",
    "burgundy": "maroon",
    "wine red": "maroon",
    "brown": "brown",
    "tan": "brown",
    "chocolate brown": "brown",
    "coffee brown": "brown",
    "beige": "beige",
    "cream": "beige",
    "ivory": "beige",
    "off white": "white",
    "grey": "grey",
    "gray": "grey",
    "charcoal": "grey",
    "charcoal grey": "grey",
    "silver": "silver",
    "gold": "gold",
    "golden": "gold",
    "bronze": "bronze",
    "copper": "copper",
    "clear": "transparent",
    "transparent": "transparent",
    "multicolor": "multicolour",
    "multicolour": "multicolour",
    "multi color": "multicolour",
    "multi colour": "multicolour",
    # Chinese
    "黑色": "black",
    "黑": "black",
    "白色": "white",
    "白": "white",
    "红色": "red",
    "红": "red",
    "大红": "red",
    "蓝色": "blue",
    "蓝": "blue",
    "藏青": "navy blue",
    "藏青色": "navy blue",
    "藏蓝": "navy blue",
    "藏蓝色": "navy blue",
    "海军蓝": "navy blue",
    "深蓝": "navy blue",
    "深蓝色": "navy blue",
    "浅蓝": "light blue",
    "浅蓝色": "light blue",
    "天蓝色": "light blue",
    "绿色": "green",
    "绿": "green",
    "军绿": "olive",
    "军绿色": "olive",
    "黄色": "yellow",
    "黄": "yellow",
    "橙色": "orange",
    "橘色": "orange",
    "粉色": "pink",
    "粉红": "pink",
    "粉红色": "pink",
    "紫色": "purple",
    "紫": "purple",
    "棕色": "brown",
    "咖啡色": "brown",
    "褐色": "brown",
    "米色": "beige",
    "米白": "beige",
    "米白色": "beige",
    "卡其色": "khaki",
    "灰色": "grey",
    "灰": "grey",
    "银色": "silver",
    "金色": "gold",
    "酒红": "maroon",
    "酒红色": "maroon",
    "透明": "transparent",
}

#: Colour words that are also ordinary nouns ("ice cream", "lime juice", "rose oil"): read as a colour only
#: when not directly after another content word that is not a product type.
WEAK_COLOURS: Final[frozenset[str]] = word_set(
    "cream rose tan lime clear aqua olive copper bronze charcoal ivory mustard lavender chocolate coffee"
)

#: Single Han characters that name a colour when they prefix a product word ("红裙子", "黑鞋").
HAN_COLOUR_PREFIXES: Final[dict[str, str]] = {
    "黑": "black",
    "白": "white",
    "红": "red",
    "蓝": "blue",
    "绿": "green",
    "黄": "yellow",
    "粉": "pink",
    "紫": "purple",
    "灰": "grey",
}

#: Words that make a relative price constraint (a band of the catalogue's own prices), not a number.
PRICE_BANDS: Final[dict[str, str]] = {
    "cheap": "low",
    "cheapest": "low",
    "cheaper": "low",
    "budget": "low",
    "affordable": "low",
    "inexpensive": "low",
    "low cost": "low",
    "low price": "low",
    "low priced": "low",
    "bargain": "low",
    "economical": "low",
    "discount": "low",
    "mid range": "mid",
    "midrange": "mid",
    "mid priced": "mid",
    "moderately priced": "mid",
    "premium": "high",
    "luxury": "high",
    "high end": "high",
    "expensive": "high",
    "top end": "high",
    "便宜": "low",
    "便宜的": "low",
    "实惠": "low",
    "平价": "low",
    "低价": "low",
    "划算": "low",
    "性价比": "low",
    "中端": "mid",
    "中档": "mid",
    "高端": "high",
    "高档": "high",
    "奢侈": "high",
    "奢华": "high",
    "轻奢": "high",
}

#: Negation words that turn the next colour into an exclusion ("not red", "不要红色").
NEGATIONS: Final[frozenset[str]] = frozenset(
    {"not", "no", "non", "without", "except", "but", "不要", "除了", "非", "不是", "别"}
)

#: Words that qualify the shopper rather than the product; they never make a query "specific".
MODIFIERS: Final[frozenset[str]] = word_set(
    """men mens man women womens woman ladies lady girls girl boys boy kids kid children child baby babies
    toddler toddlers infant unisex adult adults teen teens junior juniors plus new
    男 女 男士 女士 男式 女式 男款 女款 男生 女生 儿童 童 宝宝 新款 正品"""
)

#: Filler words removed from the residual text (they carry no product meaning).
FILLERS: Final[frozenset[str]] = word_set(
    """a an the and or of for with in on to at by from my me i some any buy shop find looking want need
    please best good nice price priced cost costs prices
    的 我 要 想 想要 买 找 求 推荐 有没有 一下 一款 一个 一双 一件 款 价格 在 之间 左右"""
)

#: English product-word synonyms -> category names to try, in order (only ones the catalogue has match).
CATEGORY_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "tee": ("tshirts", "t shirts", "tops"),
    "tees": ("tshirts", "t shirts", "tops"),
    "tee shirt": ("tshirts", "t shirts"),
    "sneakers": ("casual shoes", "sports shoes", "shoes"),
    "sneaker": ("casual shoes", "sports shoes", "shoes"),
    "trainers": ("sports shoes", "casual shoes", "shoes"),
    "running shoes": ("sports shoes", "shoes"),
    "athletic shoes": ("sports shoes", "shoes"),
    "hoodie": ("sweatshirts",),
    "hoodies": ("sweatshirts",),
    "joggers": ("track pants",),
    "sweatpants": ("track pants",),
    "swimsuit": ("swimwear",),
    "bathing suit": ("swimwear",),
    "purse": ("handbags",),
    "purses": ("handbags",),
    "rucksack": ("backpacks",),
    "slippers": ("flip flops", "sandals"),
    "thongs": ("flip flops",),
    "pants": ("trousers", "track pants"),
    "hat": ("caps", "headwear"),
    "hats": ("caps", "headwear"),
    "soccer ball": ("footballs",),
    "robot vacuum": ("robotic vacuums",),
    "superglue": ("cyanoacrylate adhesives", "super glue"),
    "super glue": ("cyanoacrylate adhesives",),
    "multimeter": ("multimeters", "digital multimeters"),
}

#: Chinese product terms -> English category names to try, in order.
ZH_CATEGORY_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "连衣裙": ("dresses", "dress"),
    "裙子": ("dresses", "skirts"),
    "半身裙": ("skirts",),
    "t恤": ("tshirts", "t shirts", "tops"),
    "短袖": ("tshirts", "tops"),
    "衬衫": ("shirts",),
    "上衣": ("tops", "topwear"),
    "卫衣": ("sweatshirts", "hoodies"),
    "毛衣": ("sweaters",),
    "夹克": ("jackets",),
    "外套": ("jackets", "coats"),
    "羽绒服": ("jackets",),
    "短裤": ("shorts",),
    "裤子": ("trousers", "pants", "bottomwear"),
    "长裤": ("trousers",),
    "运动裤": ("track pants",),
    "七分裤": ("capris",),
    "牛仔裤": ("jeans",),
    "泳衣": ("swimwear",),
    "袜子": ("socks",),
    "帽子": ("caps", "headwear", "hats"),
    "鸭舌帽": ("caps",),
    "鞋": ("shoes",),
    "鞋子": ("shoes",),
    "运动鞋": ("sports shoes", "sneakers", "shoes"),
    "跑鞋": ("sports shoes", "shoes"),
    "休闲鞋": ("casual shoes", "shoes"),
    "板鞋": ("casual shoes", "shoes"),
    "皮鞋": ("formal shoes", "shoes"),
    "高跟鞋": ("heels",),
    "平底鞋": ("flats",),
    "凉鞋": ("sandals", "sandal"),
    "拖鞋": ("flip flops",),
    "人字拖": ("flip flops",),
    "靴子": ("boots",),
    "包": ("bags",),
    "包包": ("bags", "handbags"),
    "手提包": ("handbags",),
    "背包": ("backpacks",),
    "双肩包": ("backpacks",),
    "旅行包": ("duffel bag", "bags"),
    "水杯": ("water bottle",),
    "水壶": ("water bottle",),
    "足球": ("footballs",),
    "篮球": ("basketballs",),
    "手表": ("watches",),
    "项链": ("necklaces",),
    "耳机": ("headphones",),
    "手机壳": ("cases", "phone cases"),
    "胶带": ("tapes", "tape", "adhesive tapes"),
    "布基胶带": ("duct tape",),
    "电工胶带": ("electrical tape",),
    "胶水": ("adhesives", "glue"),
    "强力胶": ("cyanoacrylate adhesives", "super glue"),
    "手套": ("gloves", "exam gloves"),
    "检查手套": ("exam gloves",),
    "螺丝": ("screws",),
    "螺丝钉": ("screws",),
    "钉子": ("nails",),
    "磁铁": ("industrial magnets", "magnets"),
    "温度计": ("thermometers",),
    "体温计": ("digital thermometers", "thermometers"),
    "卡尺": ("calipers",),
    "游标卡尺": ("calipers",),
    "电子卡尺": ("digital calipers",),
    "烧杯": ("beakers",),
    "试管": ("test tubes",),
    "牙刷": ("toothbrushes",),
    "牙膏": ("toothpastes",),
    "吸尘器": ("vacuums",),
    "扫地机器人": ("robotic vacuums",),
    "热缩管": ("heat shrink tubing",),
    "打印耗材": ("3d printing filament",),
    "耗材": ("3d printing filament",),
    "3d打印机": ("3d printers",),
    "打印机": ("3d printers", "printers"),
    "轴承": ("bearings",),
    "阀门": ("valves",),
    "电阻": ("resistors",),
    "急救包": ("first aid supplies", "first aid kits"),
    "显微镜": ("microscopes",),
}

#: Chinese names of international brands -> the brand as catalogues write it (used only if present).
ZH_BRAND_ALIASES: Final[dict[str, str]] = {
    "耐克": "nike",
    "阿迪达斯": "adidas",
    "阿迪": "adidas",
    "彪马": "puma",
    "锐步": "reebok",
    "匡威": "converse",
    "迪卡侬": "decathlon",
    "迪士尼": "disney",
    "三星": "samsung",
    "苹果": "apple",
    "索尼": "sony",
    "飞利浦": "philips",
    "松下": "panasonic",
    "联想": "lenovo",
    "戴尔": "dell",
    "惠普": "hp",
    "佳能": "canon",
    "尼康": "nikon",
    "乐高": "lego",
    "史丹利": "stanley",
    "得伟": "dewalt",
    "百得": "black decker",
    "乐泰": "loctite",
    "高露洁": "colgate",
    "欧乐b": "oral b",
    "李维斯": "levis",
    "新秀丽": "samsonite",
    "卡西欧": "casio",
    "罗技": "logitech",
}
