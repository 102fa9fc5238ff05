"""A synthetic sales world for the embedded demo and for replay: a team, its deal history, how
fast each rep answers, and one business day of inbound events with three planted stories.

Everything is drawn from one `random.Random(seed)`: the same seed and start give the same world,
byte for byte. The day is 09:00-18:00 Asia/Shanghai on the date of `start`:
- web sessions of many visitors over the content catalogue (config/content_catalog.yaml), mostly
  cold, some warm, a few hot (a deep technical read, or a pricing page and a contact form);
- call transcripts in Chinese and English built from lexicon phrases (config/lexicon.yaml);
- POS rows of the stores in config/metrics.yaml, servo (`SRV-*` / `SD-*`) and other SKUs;
- external signals: competitor activity per region, tenders, regional copper spot prices.
POS rows, web page views and competitor activity also exist on the same weekday one week
earlier, so week-over-week baselines exist. Last week is this week's background again: POS rows
and competitor readings lightly perturbed (times, amounts, a few rows missing on each side), web
sessions at the same times by other visitors (a checkout conversion over a few sessions an hour
would swing by a third with one session more or less). Week-over-week metrics sit within a few
percent of 0 everywhere except where a story moves them.

The stories (`Stories`) say what a replay must show for each to count as caught.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple, get_origin, get_type_hints
from zoneinfo import ZoneInfo

import yaml

from models.reps import REGIONS, Rep, WorkingHours
from models.routing import RepOutcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_START = datetime(2026, 11, 24, tzinfo=timezone.utc)  # a Tuesday
OPEN_HOUR, CLOSE_HOUR = 9, 18
DAY_SECONDS = (CLOSE_HOUR - OPEN_HOUR) * 3600
WEEK_SECONDS = 7 * 86_400
MIN_EVENTS = 5_000  # below this the stories' hourly windows hold too few rows to read reliably

SITE = "https://www.leadflow.example"
SHOP = "https://shop.leadflow.example"

# ---- geography (config/metrics.yaml) -----------------------------------------------------------

# Share of the business (visitors, callers, reps) per region.
REGION_WEIGHTS = {"North": 20, "East": 24, "South": 20, "Southwest": 12, "Central": 13, "Northeast": 11}
CITIES = {  # region -> (Chinese, English) of its two main cities
    "North": (("北京", "Beijing"), ("天津", "Tianjin")),
    "East": (("上海", "Shanghai"), ("杭州", "Hangzhou")),
    "South": (("广州", "Guangzhou"), ("深圳", "Shenzhen")),
    "Southwest": (("成都", "Chengdu"), ("重庆", "Chongqing")),
    "Central": (("武汉", "Wuhan"), ("长沙", "Changsha")),
    "Northeast": (("沈阳", "Shenyang"), ("大连", "Dalian")),
}
STORES = {  # store -> (region, share of POS rows)
    "BJ-001": ("North", 14), "TJ-002": ("North", 8), "SH-001": ("East", 16), "HZ-003": ("East", 9),
    "GZ-001": ("South", 12), "SZ-002": ("South", 11), "CD-001": ("Southwest", 8), "CQ-002": ("Southwest", 7),
    "WH-001": ("Central", 8), "SY-001": ("Northeast", 7),
}
SKUS = {  # sku -> (unit price CNY, share of POS rows); SRV-* / SD-* are the servo families of metrics.yaml
    "SRV-200": (1_280.0, 12), "SRV-750": (2_350.0, 9), "SD-400": (3_200.0, 10), "SD-1K5": (5_600.0, 5),
    "PLC-C120": (4_600.0, 7), "PLC-C240": (8_900.0, 3), "HV-CN40": (420.0, 10), "HV-CN80": (760.0, 7),
    "POS-T10": (2_999.0, 6), "POS-T20": (4_599.0, 3), "ES-5K": (18_000.0, 1), "CBL-10": (89.0, 16),
    "ACC-KIT": (35.0, 10),
}

# ---- what visitors read (ids of config/content_catalog.yaml; URLs match its patterns) -----------


class Content(NamedTuple):
    id: str
    industry: str
    stage: str
    path: str
    download: str | None = None  # the document's PDF, for the contents one can download


CONTENTS = (
    Content("blog-ev-charging", "automotive", "awareness", "/blog/ev-charging-trends"),
    Content("cs-ev-harness-oem", "automotive", "consideration", "/case-studies/ev-harness-oem"),
    Content("wp-hv-connector", "automotive", "technical_validation", "/whitepapers/hv-connector",
            "/whitepapers/hv-connector.pdf"),
    Content("pricing-hv-connector", "automotive", "purchase", "/pricing/hv-connector"),
    Content("cs-smart-factory", "manufacturing", "consideration", "/case-studies/smart-factory-retrofit"),
    Content("wp-plc-safety", "manufacturing", "technical_validation", "/white-papers/plc-safety",
            "/white-papers/plc-safety.pdf"),
    Content("ds-servo-drive", "manufacturing", "technical_validation", "/datasheets/servo-drive-sd400.pdf",
            "/downloads/servo-drive-sd400.pdf"),
    Content("pricing-servo-drive", "manufacturing", "purchase", "/pricing/servo-drive"),
    Content("cs-lab-analyzer-hospital", "medical", "consideration", "/case-studies/lab-analyzer-hospital"),
    Content("wp-patient-monitor", "medical", "technical_validation", "/white-papers/patient-monitor-accuracy",
            "/white-papers/patient-monitor-accuracy.pdf"),
    Content("pricing-patient-monitor", "medical", "purchase", "/pricing/patient-monitor"),
    Content("blog-smart-classroom", "education", "awareness", "/blog/smart-classroom"),
    Content("demo-lms-platform", "education", "technical_validation", "/demo/lms", "/demo/lms/slides.pdf"),
    Content("pricing-lms-platform", "education", "purchase", "/pricing/lms"),
    Content("blog-retail-checkout", "retail", "awareness", "/blog/checkout-speed"),
    Content("cs-pos-retail-chain", "retail", "consideration", "/case-studies/pos-rollout-retail-chain"),
    Content("pricing-pos-terminal", "retail", "purchase", "/pricing/pos-terminal"),
)
_CONTENT = {content.id: content for content in CONTENTS}

# Industries of the world: the five with content and packs, plus energy (no content of its own).
VISITOR_INDUSTRIES = {"automotive": 20, "manufacturing": 30, "medical": 15, "education": 13, "retail": 12,
                      "energy": 10}
REP_INDUSTRIES = {"manufacturing": 28, "automotive": 14, "medical": 16, "education": 14, "retail": 10,
                  "energy": 12, "logistics": 4, "finance": 2}
PRODUCTS_OF = {
    "automotive": ("hv-connector",), "manufacturing": ("plc-controller", "servo-drive"),
    "medical": ("patient-monitor", "lab-analyzer"), "education": ("smart-classroom", "lms-platform"),
    "retail": ("pos-terminal",), "energy": ("energy-storage",), "logistics": ("plc-controller",),
    "finance": ("pos-terminal",),
}
DEAL_SIZE = {  # product -> (low, high) CNY of one deal
    "hv-connector": (80_000, 900_000), "plc-controller": (50_000, 400_000), "servo-drive": (30_000, 300_000),
    "patient-monitor": (120_000, 1_500_000), "lab-analyzer": (200_000, 2_000_000),
    "smart-classroom": (60_000, 800_000), "lms-platform": (40_000, 500_000), "pos-terminal": (20_000, 300_000),
    "energy-storage": (300_000, 3_000_000),
}

# ---- the team --------------------------------------------------------------------------------

TEAM_SIZE = 200
EXPERT_IDS = ("rep-014", "rep-037")  # automotive OEM experts, East: where the white-paper buyer is
LAZY_ID = "rep-163"  # the best match for one hot Northeast retail lead, and never answers
# Ordinary reps stay clearly below the planted reps where the stories need a clear best match.
SKILL_CAP = {"automotive": 0.7, "hv-connector": 0.7, "retail": 0.5, "pos-terminal": 0.5}
SHIFTS = ("08:30-18:00", "09:00-18:00", "09:00-18:30", "08:00-18:00")  # all cover the business day
SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
            "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han",
            "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Pan", "Yuan", "Cai", "Jiang")
GIVEN_NAMES = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Qiang", "Jun", "Yang", "Yong", "Yan", "Jie", "Tao",
               "Ming", "Chao", "Xiuying", "Hua", "Ping", "Gang", "Hui", "Xin", "Yu", "Hao", "Lin", "Dan", "Bo",
               "Peng", "Yun", "Ting", "Jian", "Kai", "Rui", "Qian", "Xue", "Zihan", "Yuting", "Haiyan",
               "Xiaoming", "Jianguo", "Minghui")
COMPANY_STEMS = ("Huaxin", "Dongfang", "Hengda", "Jinlong", "Tianyi", "Xinghe", "Ruifeng", "Boyuan", "Kaida",
                 "Mingyang", "Zhongke", "Baixin")
COMPANY_KINDS = {"automotive": "Auto Parts Co.", "manufacturing": "Precision Machinery Co.",
                 "medical": "People's Hospital", "education": "Vocational College",
                 "retail": "Supermarket Chain", "energy": "Energy Storage Co."}

# ---- call transcripts: every signal sentence holds a phrase of config/lexicon.yaml --------------

PRODUCT_WORDS = {  # product -> (Chinese, English)
    "hv-connector": ("高压连接器", "high-voltage connectors"), "plc-controller": ("PLC控制器", "PLC controllers"),
    "servo-drive": ("伺服驱动器", "servo drives"), "patient-monitor": ("病人监护仪", "patient monitors"),
    "lab-analyzer": ("检验分析仪", "lab analyzers"), "smart-classroom": ("智慧教室方案", "smart classroom kits"),
    "lms-platform": ("在线学习平台", "the learning platform"), "pos-terminal": ("收银终端", "POS terminals"),
    "energy-storage": ("储能系统", "energy storage systems"),
}
SPEECH: dict[str, dict[str, Any]] = {
    "zh": {
        "caller": "客户：", "agent": "坐席：",
        "hello": "您好，我是{city}的{surname}经理。",
        "intro": {  # each names the industry with a lexicon hint (energy buyers call from their factory)
            "automotive": ("我们是一家汽车零部件一级供应商。", "我这边是主机厂的采购部。"),
            "manufacturing": ("我们工厂有三条产线要改造。", "我们是做精密加工的工厂。"),
            "medical": ("我这边是一家三甲医院的设备科。", "我们是一家连锁诊所。"),
            "education": ("我们是一所大学的信息中心。", "我们学校准备改造一批教室。"),
            "retail": ("我们是一家连锁超市。", "我们在本地有四十多家门店。"),
            "energy": ("我们是做储能电站设备的工厂。",),
        },
        "interest": "想了解一下你们的{product}。",
        "signals": {
            "price": ("能给我们一个报价吗？", "大概多少钱？", "想先了解一下价格。"),
            "budget": ("今年的预算已经批下来了。", "这个项目的经费已经到位。"),
            "contract": ("合同模板能先发我们看看吗？", "如果合适，我们希望尽早签约。"),
            "trial": ("能不能先寄几个样品？", "我们想先试用一下。"),
            "timeline": ("我们希望本季度完成采购。", "项目要求年底前上线。"),
            "competitor": ("我们也在对比沃泰克的方案。", "安派诺给过我们一个方案。", "诺德赛尔那边也在谈。"),
            "voltix": ("沃泰克这两天在我们这边搞促销，给的折扣很大。",),
        },
        "service": ("设备上周出了点故障，想请工程师上门看看。", "想确认一下上次订单的发货时间。", "需要一份安装手册。"),
        "answers": ("好的，我记录一下。", "明白，我把您的需求转给销售同事。", "稍等，我查一下。"),
        "bye": "好的，谢谢，再见。",
    },
    "en": {
        "caller": "Caller: ", "agent": "Agent: ",
        "hello": "Hello, this is {surname} calling from {city}.",
        "intro": {
            "automotive": ("We are a tier-1 supplier to several carmakers.", "I'm with an automaker's purchasing team."),
            "manufacturing": ("We run a factory with four production lines.", "I manage maintenance on the plant floor."),
            "medical": ("I work in the equipment department of a hospital.", "We run a chain of clinics."),
            "education": ("I'm with the IT office of a university.", "Our school is refitting its classrooms."),
            "retail": ("We operate a store chain with forty outlets.", "I buy equipment for a supermarket group."),
            "energy": ("We build battery storage systems at our factory.",),
        },
        "interest": "We're looking at your {product}.",
        "signals": {
            "price": ("Could you send us a quote?", "What is the price for a hundred units?", "How much would that cost?"),
            "budget": ("We have budget approved for this.", "The funding approved last week covers it."),
            "contract": ("Can you send the contract draft?", "We'd like to sign the agreement soon."),
            "trial": ("Could we get a free trial first?", "Can you ship samples?"),
            "timeline": ("We need it this quarter.", "We want to go live next month."),
            "competitor": ("We are also talking to Voltix.", "Ampero offered us a similar setup.",
                           "Nordcell pitched us last week."),
            "voltix": ("Voltix is running a big discount in our area right now.",),
        },
        "service": ("One unit shows an error code since Monday.", "I need the installation manual.",
                    "I'd like to check the delivery date of our last order."),
        "answers": ("Sure, let me note that down.", "Understood, I'll pass this to our sales team.",
                    "One moment, let me check."),
        "bye": "Thanks, bye.",
    },
}

# ---- the day's shape -------------------------------------------------------------------------

WEB_HOURLY = (0.8, 1.2, 1.3, 0.9, 0.8, 1.1, 1.3, 1.2, 0.9)  # relative traffic per hour, 09-10 .. 17-18
POS_HOURLY = (0.7, 0.9, 1.1, 1.4, 1.2, 1.0, 1.0, 1.1, 1.0)
CALL_HOURLY = (0.9, 1.3, 1.2, 0.6, 0.8, 1.2, 1.2, 1.0, 0.7)
COMPETITOR_LEVEL = {"North": 9.0, "East": 14.0, "South": 11.0, "Southwest": 6.0, "Central": 7.0, "Northeast": 5.0}
COMPETITOR_EVERY = 300  # seconds between competitor-activity readings of a region
COPPER_EVERY = 1800
COPPER_BASIS = {"North": 40.0, "East": 0.0, "South": 60.0, "Southwest": 120.0, "Central": 80.0, "Northeast": 90.0}
# Cold visitors who shop for parts (cart, checkout): enough that an hour's checkout conversion
# per region rests on more than a handful of sessions.
SHOP_SHARE = 0.4
KEEP_SHARE = 0.98  # each background POS row exists on a given day with this probability (day-to-day noise)


def _offset(hour: int, minute: int = 0) -> float:
    """Seconds after opening (09:00 local) of a local time of the business day."""
    return (hour - OPEN_HOUR) * 3600 + minute * 60


# ---- stories ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhitePaperBuyer:
    """Caught when the visitor's download routes it at once (`trigger`) to one of `expected_reps`."""

    visitor_id: str
    account: str
    region: str
    content_id: str
    views: int
    dwell_seconds: float
    download_at: datetime
    trigger: str
    expected_reps: tuple[str, ...]
    name: str = "white-paper-buyer"
    description: str = ("An automotive Tier-1 buyer reads the high-voltage connector white paper three times "
                        "and downloads it; an automotive expert gets the lead at once.")


@dataclass(frozen=True)
class CompetitorPush:
    """Caught when each of `rules` fires for `region` between `starts` and `ends`, and at no other time."""

    rules: tuple[str, ...]
    region: str
    competitor_region: str
    severity: str
    starts: datetime
    ends: datetime
    sales_drop: float  # share of the region's POS sales lost against last week, while it lasts
    competitor_rise: float  # rise of the competitor region's competitor activity against last week
    name: str = "competitor-push"
    description: str = ("From about 14:00 North's store sales fall by 40% week over week while a competitor "
                        "pushes in East; the orange rule fires.")


@dataclass(frozen=True)
class LazyRep:
    """Caught when the lead is first routed to `rep_id`, that routing breaches its SLA
    (`sla_minutes`), and the lead is re-routed to another rep."""

    rep_id: str
    visitor_id: str
    email: str
    phone: str
    region: str
    trigger: str
    form_at: datetime
    sla_minutes: float
    name: str = "lazy-rep"
    description: str = ("A hot Northeast retail lead goes to its best match, who never accepts; "
                        "the SLA runs out and the lead is re-routed.")


@dataclass(frozen=True)
class Stories:
    white_paper_buyer: WhitePaperBuyer
    competitor_push: CompetitorPush
    lazy_rep: LazyRep

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {f.name: json.loads(json.dumps(asdict(getattr(self, f.name)), default=_iso)) for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, Any]]) -> Stories:
        kinds = get_type_hints(cls)
        return cls(**{name: _story(kinds[name], data[name]) for name in kinds})


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _story(kind: type, data: Mapping[str, Any]) -> Any:
    """A story dataclass from its JSON: datetimes and tuples come back as such."""
    hints = get_type_hints(kind)
    values = {}
    for name, value in data.items():
        if hints[name] is datetime:
            value = datetime.fromisoformat(value)
        elif get_origin(hints[name]) is tuple:
            value = tuple(value)
        values[name] = value
    return kind(**values)


# ---- the world -------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    seed: int
    start: datetime
    reps: tuple[Rep, ...]
    deals: tuple[RepOutcome, ...]  # won / lost over the 180 days before `start`, oldest first
    responses: Mapping[str, float | None]  # rep id -> minutes to accept a routed lead; None: never
    events: tuple[tuple[str, dict[str, Any]], ...]  # (source, payload), in event-time order
    stories: Stories

    def counts(self) -> dict[str, int]:
        """Events by source."""
        return dict(Counter(source for source, _payload in self.events))


def generate_world(seed: int = 7, start: datetime | None = None, events: int = 40_000) -> World:
    """The world of `seed`: the team, its history and responsiveness, and about `events` inbound
    events (today's business day and last week's baselines), sorted by event time."""
    if events < MIN_EVENTS:
        raise ValueError(f"a world needs at least {MIN_EVENTS} events, got {events}")
    start = (start or DEFAULT_START).astimezone(timezone.utc)
    if start.astimezone(SHANGHAI).weekday() >= 5:  # the team works Monday to Friday
        raise ValueError(f"start must be a weekday in Shanghai, got {start.astimezone(SHANGHAI):%A %Y-%m-%d}")
    rng = random.Random(seed)
    reps = _team(rng)
    deals = _deals(rng, reps, start)
    responses = {rep.id: None if rep.id == LAZY_ID else round(rng.triangular(1.0, 4.0, 1.8), 1) for rep in reps}
    today = _opening(start.astimezone(SHANGHAI).date())
    made, stories = _events(rng, today, events)
    return World(seed, start, reps, deals, responses, _finalise(made), stories)


def _opening(day: date) -> float:
    """Epoch seconds of 09:00 Shanghai time on `day`."""
    return datetime.combine(day, time(OPEN_HOUR), SHANGHAI).timestamp()


# ---- the team --------------------------------------------------------------------------------


def _team(rng: random.Random) -> tuple[Rep, ...]:
    names = _names(rng, TEAM_SIZE)
    planted = {EXPERT_IDS[0]: _expert_connectors, EXPERT_IDS[1]: _expert_storage, LAZY_ID: _lazy}
    reps = []
    for number, name in enumerate(names, 1):
        rep_id = f"rep-{number:03d}"
        reps.append(planted[rep_id](rep_id, name) if rep_id in planted else _ordinary_rep(rng, rep_id, name))
    return tuple(reps)


def _names(rng: random.Random, count: int) -> list[str]:
    everyone = [f"{surname} {given}" for surname in SURNAMES for given in GIVEN_NAMES]
    return rng.sample(everyone, count)


def _expert_connectors(rep_id: str, name: str) -> Rep:
    return Rep(id=rep_id, name=name, regions=("East",), capacity=15, hours=WorkingHours(hours="08:30-18:00"),
               industries={"automotive": 1.0, "manufacturing": 0.6},
               products={"hv-connector": 1.0, "servo-drive": 0.6},
               certifications={"iatf16949": 1.0, "iso26262": 1.0}, languages={"zh": 1.0, "en": 1.0, "de": 0.6},
               stages={"awareness": 0.6, "consideration": 0.9, "technical_validation": 1.0, "purchase": 0.9})


def _expert_storage(rep_id: str, name: str) -> Rep:
    return Rep(id=rep_id, name=name, regions=("East",), capacity=15, hours=WorkingHours(hours="09:00-18:30"),
               industries={"automotive": 1.0, "energy": 0.6}, products={"hv-connector": 1.0, "energy-storage": 0.7},
               certifications={"iatf16949": 1.0}, languages={"zh": 1.0, "en": 1.0, "ja": 0.7},
               stages={"awareness": 0.7, "consideration": 0.8, "technical_validation": 1.0, "purchase": 0.8})


def _lazy(rep_id: str, name: str) -> Rep:
    # The only rep fully skilled in retail and POS terminals, where the default pack keeps the
    # territory: the clear best match for a hot Northeast retail lead.
    return Rep(id=rep_id, name=name, regions=("Northeast",), capacity=10, hours=WorkingHours(),
               industries={"retail": 1.0}, products={"pos-terminal": 1.0}, languages={"zh": 1.0, "ja": 0.8},
               stages={"awareness": 0.5, "consideration": 0.6, "technical_validation": 0.4, "purchase": 0.9})


def _ordinary_rep(rng: random.Random, rep_id: str, name: str) -> Rep:
    national = rng.random() < 0.1
    region = _weighted(rng, REGION_WEIGHTS)
    industries: dict[str, float] = {}
    wanted = rng.choice((1, 2, 2, 3))
    while len(industries) < wanted:
        industry = _weighted(rng, REP_INDUSTRIES)
        if not (national and industry in ("retail", "finance")):  # national accounts are not shops
            industries[industry] = _level(rng, industry)
    products = {product: _level(rng, product) for industry in industries for product in PRODUCTS_OF[industry]
                if rng.random() < 0.8}
    return Rep(
        id=rep_id, name=name, regions=() if national else (region,), capacity=rng.choice((6, 8, 10, 12, 15)),
        available=rng.random() > 0.02, hours=WorkingHours(hours=rng.choice(SHIFTS)),
        industries=industries, products=products or {PRODUCTS_OF[next(iter(industries))][0]: 0.5},
        certifications=_certifications(rng, industries), languages=_languages(rng, region),
        stages={stage: round(rng.uniform(0.3, 0.9), 1)
                for stage in ("awareness", "consideration", "technical_validation", "purchase")})


def _level(rng: random.Random, skill: str) -> float:
    return round(rng.uniform(0.4, SKILL_CAP.get(skill, 0.9)), 1)


def _certifications(rng: random.Random, industries: Mapping[str, float]) -> dict[str, float]:
    chances = {"pmp": 0.12}
    if "medical" in industries:
        chances |= {"iso13485": 0.85, "gmp": 0.3}
    if "automotive" in industries:
        chances |= {"iatf16949": 0.6, "iso26262": 0.3}
    return {cert: 1.0 for cert, chance in chances.items() if rng.random() < chance}


def _languages(rng: random.Random, region: str) -> dict[str, float]:
    spoken = {"zh": 1.0}
    if rng.random() < 0.6:
        spoken["en"] = round(rng.uniform(0.5, 0.9), 1)
    if rng.random() < (0.25 if region in ("Northeast", "East") else 0.05):  # Japanese firms cluster there
        spoken["ja"] = round(rng.uniform(0.5, 0.9), 1)
    if rng.random() < 0.04:
        spoken["de"] = round(rng.uniform(0.5, 0.9), 1)
    return spoken


# ---- deal history ----------------------------------------------------------------------------


def _deals(rng: random.Random, reps: Iterable[Rep], start: datetime) -> tuple[RepOutcome, ...]:
    """Won / lost deals over the 180 days before `start`: a rep wins more where it is stronger;
    the planted reps have a long, strong record in their field."""
    drawn: list[tuple[datetime, str, str, str, bool, float]] = []
    for rep in reps:
        record = [_ordinary_deal(rng, rep) for _ in range(rng.randint(8, 24))]
        if rep.id in EXPERT_IDS:
            record += [("automotive", "hv-connector", rng.random() < 0.8) for _ in range(36)]
        elif rep.id == LAZY_ID:
            record += [("retail", "pos-terminal", rng.random() < 0.75) for _ in range(24)]
        for industry, product, won in record:
            low, high = DEAL_SIZE[product]
            drawn.append((_past_moment(rng, start), rep.id, industry, product, won, round(rng.uniform(low, high), -2)))
    drawn.sort()
    return tuple(RepOutcome(outcome_id=f"deal-{n:05d}", lead_id=f"past-lead-{n:05d}", rep_id=rep_id,
                            kind="won" if won else "lost", industry=industry, product=product, amount=amount, ts=ts)
                 for n, (ts, rep_id, industry, product, won, amount) in enumerate(drawn, 1))


def _ordinary_deal(rng: random.Random, rep: Rep) -> tuple[str, str, bool]:
    industry = _weighted(rng, rep.industries)
    own = [product for product in PRODUCTS_OF[industry] if product in rep.products]
    product = rng.choice(own or PRODUCTS_OF[industry])
    return industry, product, rng.random() < 0.15 + 0.4 * rep.industries[industry]


def _past_moment(rng: random.Random, start: datetime) -> datetime:
    """A business-hours moment 1 to 179 days before `start` (inside the 180-day window)."""
    day = start.astimezone(SHANGHAI).date() - timedelta(days=rng.randint(1, 179))
    local = datetime.combine(day, time(OPEN_HOUR), SHANGHAI) + timedelta(seconds=rng.uniform(0, DAY_SECONDS))
    return local.astimezone(timezone.utc).replace(microsecond=0)


# ---- events ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Event:
    at: float  # epoch seconds
    source: str
    payload: dict[str, Any]  # without event_id and ts, set when the day is finalised


class _Sizes(NamedTuple):
    """Per-day volumes for a total of about `events`: today-only sources are small and fixed
    shares; the rest is split between POS rows and page views on both days."""

    pos_rows: int
    page_views: int
    calls: int
    tenders: int

    @classmethod
    def of(cls, events: int) -> _Sizes:
        signals = len(REGIONS) * (2 * DAY_SECONDS // COMPETITOR_EVERY + DAY_SECONDS // COPPER_EVERY)
        calls, tenders = events // 100, max(3, events // 2000)
        per_day = (events - signals - calls - tenders) / 2
        # Page views are ~97% of a day's web events (downloads and forms are the rest, today only);
        # a day keeps KEEP_SHARE of the POS template.
        return cls(round(per_day * 0.43 / KEEP_SHARE), round(per_day * 0.57), calls, tenders)


class _Identities:
    """Unique visitor ids, phone numbers and e-mail addresses for the day's people."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.seen = rng, set()

    def _unique(self, make: Callable[[], str]) -> str:
        value = make()
        while value in self.seen:
            value = make()
        self.seen.add(value)
        return value

    def visitor(self) -> str:
        return self._unique(lambda: f"v-{self.rng.getrandbits(48):012x}")

    def phone(self) -> str:
        r = self.rng
        return self._unique(lambda: f"+86 1{r.choice('3589')}{r.randint(0, 9)}-{r.randint(0, 9999):04d}-"
                                    f"{r.randint(0, 9999):04d}")

    def email(self, person: str, company: str) -> str:
        return self._unique(lambda: f"{person.lower().replace(' ', '.')}{self.rng.randint(1, 99)}@"
                                    f"{company.split()[0].lower()}.example.cn")


class _Visitor(NamedTuple):
    id: str
    region: str
    industry: str
    account: str | None


class _Caller(NamedTuple):
    """Someone who will call today: a hot web lead following up its form, or a new caller."""

    phone: str
    email: str | None
    region: str
    industry: str
    language: str
    signals: tuple[str, ...]
    at: float  # epoch seconds


def _events(rng: random.Random, today: float, total: int) -> tuple[list[_Event], Stories]:
    sizes = _Sizes.of(total)
    people = _Identities(rng)
    sessions, followups = _web_sessions(rng, people, today, sizes.page_views)
    pos_rows = _pos_template(rng, sizes.pos_rows)
    competitor = _competitor_template(rng)
    week_ago = today - WEEK_SECONDS
    pos_today, signals_today = _pos_day(rng, pos_rows, today), _signal_day(rng, competitor, today)
    pos_today, push = _plant_competitor_push(today, pos_today, signals_today)
    buyer_events, buyer = _plant_white_paper_buyer(people, today)
    lazy_events, lazy = _plant_lazy_lead(people, today)
    callers = followups + _new_callers(rng, people, today, sizes.calls - len(followups))
    made = [
        *(event for session in sessions for event in session), *pos_today, *signals_today,
        *_last_week_sessions(people, sessions), *_pos_day(rng, pos_rows, week_ago),
        *_signal_day(rng, competitor, week_ago),
        *(_call(rng, caller, n, today) for n, caller in enumerate(callers, 1)),
        *_tenders(rng, today, sizes.tenders), *_copper(rng, today), *buyer_events, *lazy_events,
    ]
    return made, Stories(buyer, push, lazy)


def _finalise(made: list[_Event]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Sort by event time (ties keep their order) and give each event its id and ISO-8601 UTC time."""
    made.sort(key=lambda event: event.at)
    return tuple((event.source, {"event_id": f"ev-{n:06d}", "ts": _timestamp(event.at), **event.payload})
                 for n, event in enumerate(made, 1))


def _timestamp(at: float) -> str:
    return datetime.fromtimestamp(round(at, 3), timezone.utc).isoformat(timespec="milliseconds")


def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(rng: random.Random, hourly: tuple[float, ...], latest: float = DAY_SECONDS) -> float:
    """Seconds after opening, following the hourly profile, no later than `latest`."""
    hour = rng.choices(range(len(hourly)), weights=hourly)[0]
    return min(hour * 3600 + rng.random() * 3600, latest)


# ---- web -------------------------------------------------------------------------------------

Step = tuple[str, str, str | None, float]  # web kind, url, content id, dwell seconds


def _web_sessions(rng: random.Random, people: _Identities, today: float,
                  page_views: int) -> tuple[list[list[_Event]], list[_Caller]]:
    """Today's background visitors until `page_views`; hot visitors who filled in the contact
    form call about half the time."""
    sessions: list[list[_Event]] = []
    followups: list[_Caller] = []
    views = 0
    while views < page_views:
        visitor = _visitor(rng, people)
        warmth = rng.random()
        # Energy has no catalogued content to read deeply; a hot Northeast retail lead is the lazy rep's story.
        can_be_hot = visitor.industry != "energy" and (visitor.region, visitor.industry) != ("Northeast", "retail")
        contact = None
        if warmth < 0.04 and can_be_hot:
            steps, contact = _hot_steps(rng, visitor, people)
        elif warmth < 0.22:
            steps = _warm_steps(rng, visitor.industry)
        else:
            steps = _cold_steps(rng, visitor.industry)
        session = _timed(rng, visitor, today + _moment(rng, WEB_HOURLY, DAY_SECONDS - 1800), steps, contact)
        sessions.append(session)
        views += sum(1 for event in session if event.payload["kind"] == "page_view")
        if contact is not None and rng.random() < 0.5:
            followups.append(_Caller(contact["phone"], contact["email"], visitor.region, visitor.industry,
                                     "zh" if rng.random() < 0.8 else "en",
                                     ("price", "budget") if rng.random() < 0.4 else ("price",),
                                     min(session[-1].at + rng.uniform(4, 40) * 60, today + DAY_SECONDS - 600)))
    return sessions, followups


def _visitor(rng: random.Random, people: _Identities) -> _Visitor:
    region, industry = _weighted(rng, REGION_WEIGHTS), _weighted(rng, VISITOR_INDUSTRIES)
    # Reverse-IP lookup names the company of some visitors.
    account = _company(rng, region, industry) if rng.random() < 0.15 else None
    return _Visitor(people.visitor(), region, industry, account)


def _company(rng: random.Random, region: str, industry: str) -> str:
    city = rng.choice(CITIES[region])[1]
    return f"{city} {rng.choice(COMPANY_STEMS)} {COMPANY_KINDS[industry]}"


def _contents(industry: str, *stages: str) -> list[Content]:
    return [content for content in CONTENTS if content.industry == industry and content.stage in stages]


def _view(content: Content, dwell: float) -> Step:
    return ("page_view", SITE + content.path, content.id, round(dwell, 1))


def _cold_steps(rng: random.Random, industry: str) -> list[Step]:
    """One to three short views of general pages; many visitors shop for parts instead."""
    if rng.random() < SHOP_SHARE:
        sku = _weighted(rng, {sku: share for sku, (_price, share) in SKUS.items()})
        steps = [("page_view", f"{SHOP}/products/{sku.lower()}", None, rng.uniform(15, 90)),
                 ("page_view", f"{SHOP}/cart", None, rng.uniform(5, 40))]
        if rng.random() < 0.55:
            steps.append(("page_view", f"{SHOP}/checkout", None, rng.uniform(20, 120)))
        return [(kind, url, content_id, round(dwell, 1)) for kind, url, content_id, dwell in steps]
    pages: list[tuple[str, str | None]] = [(SITE + content.path, content.id)
                                           for content in _contents(industry, "awareness")]
    pages += [(SITE + "/", None), (f"{SITE}/products/{PRODUCTS_OF[industry][0]}", None), (SITE + "/about", None),
              (SITE + "/news/trade-fair-2026", None)]
    chosen = rng.sample(pages, rng.choice((1, 1, 2, 2, 3)))
    return [("page_view", url, content_id, round(rng.uniform(5, 50), 1)) for url, content_id in chosen]


def _warm_steps(rng: random.Random, industry: str) -> list[Step]:
    """A few reads across the buying stages; now and then a download or a look at the prices."""
    readable = _contents(industry, "awareness", "consideration", "technical_validation")
    if not readable:  # energy: only uncatalogued pages
        return [("page_view", f"{SITE}/solutions/energy-storage", None, round(rng.uniform(20, 80), 1)),
                ("page_view", f"{SITE}/products/energy-storage", None, round(rng.uniform(20, 80), 1))]
    steps = [_view(rng.choice(readable), rng.uniform(20, 80)) for _ in range(rng.randint(2, 4))]
    technical = [c for c in readable if c.stage == "technical_validation" and c.download]
    if technical and rng.random() < 0.25:
        steps.append(("content_download", SITE + technical[0].download, technical[0].id, 0.0))
    if rng.random() < 0.15:
        steps.append(_view(_contents(industry, "purchase")[0], rng.uniform(20, 60)))
    return steps


def _hot_steps(rng: random.Random, visitor: _Visitor, people: _Identities) -> tuple[list[Step], dict[str, str] | None]:
    """A deep technical read (three reads and the download) or the pricing page and the contact
    form; the form gives the visitor's name, e-mail, phone and company."""
    intro = _contents(visitor.industry, "awareness", "consideration")
    steps = [_view(rng.choice(intro), rng.uniform(30, 90))] if intro and rng.random() < 0.6 else []
    technical = [c for c in _contents(visitor.industry, "technical_validation") if c.download]
    if technical and rng.random() < 0.5:
        document = rng.choice(technical)
        steps += [_view(document, rng.uniform(72, 100)) for _ in range(3)]  # > 210 s in all
        return [*steps, ("content_download", SITE + document.download, document.id, 0.0)], None
    steps.append(_view(_contents(visitor.industry, "purchase")[0], rng.uniform(40, 150)))
    person = rng.choice(SURNAMES) + " " + rng.choice(GIVEN_NAMES)
    company = visitor.account or _company(rng, visitor.region, visitor.industry)
    contact = {"email": people.email(person, company), "phone": people.phone(), "account": company}
    return [*steps, ("form_submit", f"{SITE}/contact?topic=quote", None, 0.0)], contact


def _timed(rng: random.Random, visitor: _Visitor, at: float, steps: list[Step],
           contact: Mapping[str, str] | None = None) -> list[_Event]:
    """The steps as events from `at`: each after the previous one's reading time and a short pause."""
    events = []
    for kind, url, content_id, dwell in steps:
        payload = _web_payload(visitor, kind, url, content_id, dwell)
        if kind == "form_submit" and contact:
            payload |= contact
        events.append(_Event(at, "web", payload))
        at += dwell + rng.uniform(3, 25)
    return events


def _web_payload(visitor: _Visitor, kind: str, url: str, content_id: str | None, dwell: float) -> dict[str, Any]:
    payload = {"kind": kind, "visitor_id": visitor.id, "url": url, "content_id": content_id,
               "dwell_seconds": dwell, "region": visitor.region, "account": visitor.account}
    return {key: value for key, value in payload.items() if value is not None}


def _last_week_sessions(people: _Identities, sessions: list[list[_Event]]) -> list[_Event]:
    """Last week's page views: today's background sessions at the same times, by other visitors.
    Only page views: downloads and forms count in no week-over-week rule."""
    events = []
    for session in sessions:
        visitor = people.visitor()
        for event in session:
            if event.payload["kind"] == "page_view":
                payload = {key: value for key, value in event.payload.items() if key != "account"}
                events.append(_Event(event.at - WEEK_SECONDS, "web", payload | {"visitor_id": visitor}))
    return events


# ---- POS and signals -------------------------------------------------------------------------


# Unit price below -> (quantities, weights) on one row. Cables go by the dozen, storage units one
# at a time: no single row is a large part of a region's hour, so hourly sales move smoothly.
_QUANTITIES = {
    500.0: ((1, 2, 5, 10, 20), (30, 25, 20, 15, 10)),
    5_000.0: ((1, 2, 3, 4), (55, 25, 12, 8)),
    float("inf"): ((1, 2), (80, 20)),
}


def _pos_template(rng: random.Random, count: int) -> list[tuple[float, dict[str, Any]]]:
    """The day's store sales as (seconds after opening, row); both days are drawn from it."""
    stores = {store: share for store, (_region, share) in STORES.items()}
    skus = {sku: share for sku, (_price, share) in SKUS.items()}
    rows = []
    for _ in range(count):
        store, sku = _weighted(rng, stores), _weighted(rng, skus)
        quantity = rng.choices(*_QUANTITIES[next(limit for limit in _QUANTITIES if SKUS[sku][0] < limit)])[0]
        discount = rng.choice((1.0, 1.0, 0.95, 0.9))
        row: dict[str, Any] = {"store": store, "region": STORES[store][0], "sku": sku, "quantity": quantity,
                               "amount": round(SKUS[sku][0] * quantity * discount, 2)}
        if rng.random() < 0.25:  # a member card at the till
            row["customer_id"] = f"m-{rng.randint(100_000, 999_999)}"
        rows.append((_moment(rng, POS_HOURLY), row))
    return rows


def _pos_day(rng: random.Random, template: list[tuple[float, dict[str, Any]]], opening: float) -> list[_Event]:
    """One day of the template: a few rows missing, times moved up to 90 s, amounts within 3%."""
    events = []
    for offset, row in template:
        if rng.random() < KEEP_SHARE:
            at = opening + min(max(offset + rng.uniform(-90, 90), 0), DAY_SECONDS - 1)
            events.append(_Event(at, "pos", row | {"amount": round(row["amount"] * rng.uniform(0.97, 1.03), 2)}))
    return events


def _competitor_template(rng: random.Random) -> list[tuple[float, str, float]]:
    """Competitor activity readings (seconds after opening, region, value) every five minutes."""
    return [(slot + rng.uniform(0, 60), region, level * rng.uniform(0.85, 1.15))
            for region, level in COMPETITOR_LEVEL.items() for slot in range(0, DAY_SECONDS, COMPETITOR_EVERY)]


def _signal_day(rng: random.Random, template: list[tuple[float, str, float]], opening: float) -> list[_Event]:
    return [_Event(opening + offset, "signal", {"kind": "competitor_activity", "region": region,
                                                 "value": round(value * rng.uniform(0.97, 1.03), 2)})
            for offset, region, value in template]


def _tenders(rng: random.Random, today: float, count: int) -> list[_Event]:
    """Public tenders: the value is the budget in CNY."""
    buyers = {"medical": "市第一人民医院", "education": "职业技术学院", "manufacturing": "装备制造集团",
              "energy": "电网公司", "automotive": "汽车工业集团"}
    events = []
    for _ in range(count):
        region, industry = _weighted(rng, REGION_WEIGHTS), rng.choice(list(buyers))
        city = rng.choice(CITIES[region])[0]
        product = PRODUCT_WORDS[PRODUCTS_OF[industry][-1]][0]
        budget = round(rng.uniform(0.3, 8.0) * 1e6, -4)
        events.append(_Event(today + _moment(rng, CALL_HOURLY), "signal",
                             {"kind": "tender", "region": region, "value": budget,
                              "detail": f"{city}{buyers[industry]}{product}采购招标"}))
    return events


def _copper(rng: random.Random, today: float) -> list[_Event]:
    """Copper spot price (CNY/t) of each region's market every half hour: one random walk, regional basis."""
    events, price = [], rng.uniform(67_000, 71_000)
    for slot in range(0, DAY_SECONDS, COPPER_EVERY):
        price += rng.gauss(0, 120)
        events += [_Event(today + slot + 5, "signal", {"kind": "commodity_price_copper", "region": region,
                                                        "value": round(price + basis, 0)})
                   for region, basis in COPPER_BASIS.items()]
    return events


# ---- calls -----------------------------------------------------------------------------------


def _new_callers(rng: random.Random, people: _Identities, today: float, count: int) -> list[_Caller]:
    """Callers not seen on the web: service calls, inquiries, and a few with price and budget."""
    callers = []
    for _ in range(max(count, 0)):
        region, industry = _weighted(rng, REGION_WEIGHTS), _weighted(rng, VISITOR_INDUSTRIES)
        kind = rng.random()
        if kind < 0.4:
            signals: tuple[str, ...] = ()
        elif kind < 0.92:
            signals = rng.choice((("price",), ("trial",), ("price", "competitor"), ("trial", "competitor"),
                                  ("price", "timeline"), ("contract",)))
        else:
            if (region, industry) == ("Northeast", "retail"):  # the lazy rep's story is the one such lead
                industry = "manufacturing"
            signals = ("price", "budget", rng.choice(("timeline", "contract", "competitor")))
        language = "en" if rng.random() < 0.25 else "zh"
        callers.append(_Caller(people.phone(), None, region, industry, language, signals,
                               today + _moment(rng, CALL_HOURLY, DAY_SECONDS - 900)))
    return callers


def _call(rng: random.Random, caller: _Caller, number: int, today: float) -> _Event:
    signals = caller.signals
    # The competitor's push in East shows on the phone too: callers bring it up.
    if caller.region == "East" and caller.at >= today + _offset(14) and rng.random() < 0.5:
        signals += ("voltix",)
    minutes = (2, 8) if not signals else (3, 10) if "budget" not in signals else (5, 15)
    payload: dict[str, Any] = {"call_id": f"call-{number:05d}", "phone": caller.phone}
    if caller.email:
        payload["email"] = caller.email
    payload |= {
        "line": "sales" if signals else "service", "agent": f"agent-{rng.randint(1, 24):02d}",
        "language": caller.language, "text": _transcript(rng, caller, signals),
        "duration_seconds": round(rng.uniform(*minutes) * 60), "region": caller.region,
    }
    return _Event(caller.at, "call", payload)


def _transcript(rng: random.Random, caller: _Caller, signals: tuple[str, ...]) -> str:
    speech = SPEECH[caller.language]
    zh = caller.language == "zh"
    city = rng.choice(CITIES[caller.region])[0 if zh else 1]
    product = PRODUCT_WORDS[rng.choice(PRODUCTS_OF[caller.industry])][0 if zh else 1]
    said = [speech["hello"].format(city=city, surname=rng.choice(SURNAMES)), rng.choice(speech["intro"][caller.industry]),
            speech["interest"].format(product=product)]
    said += [rng.choice(speech["signals"][name]) for name in signals] or [rng.choice(speech["service"])]
    lines = []
    for sentence in said:
        lines.append(speech["caller"] + sentence)
        if rng.random() < 0.5:
            lines.append(speech["agent"] + rng.choice(speech["answers"]))
    return "\n".join([*lines, speech["caller"] + speech["bye"]])


# ---- the planted stories ---------------------------------------------------------------------


def _plant_white_paper_buyer(people: _Identities, today: float) -> tuple[list[_Event], WhitePaperBuyer]:
    """Mid-morning: a Tier-1 supplier's engineer reads the case study, then the white paper three
    times (232 s), then downloads the PDF."""
    visitor = _Visitor(people.visitor(), "East", "automotive", "Anting Hengxin Auto Electrics Co. (Tier-1)")
    paper, case = _CONTENT["wp-hv-connector"], _CONTENT["cs-ev-harness-oem"]
    reads = ((10, 6, case, 48.0), (10, 14, paper, 70.0), (10, 23, paper, 80.0), (10, 31, paper, 82.0))
    events = [_Event(today + _offset(hour, minute), "web", _web_payload(visitor, "page_view", SITE + content.path,
                                                                        content.id, dwell))
              for hour, minute, content, dwell in reads]
    download_at = today + _offset(10, 34)
    events.append(_Event(download_at, "web", _web_payload(visitor, "content_download", SITE + paper.download,
                                                          paper.id, 0.0)))
    story = WhitePaperBuyer(visitor_id=visitor.id, account=visitor.account or "", region=visitor.region,
                            content_id=paper.id, views=3, dwell_seconds=232.0, download_at=_utc(download_at),
                            trigger="deep-technical-read", expected_reps=EXPERT_IDS)
    return events, story


def _plant_competitor_push(today: float, pos_today: list[_Event],
                           signals_today: list[_Event]) -> tuple[list[_Event], CompetitorPush]:
    """From 13:45 to 15:30 North's stores lose 40% of their sales (rows taken away, so orders fall
    too); from 14:00 to 15:15 East's competitor activity runs 80% above its level (raised in place).
    Returns today's POS rows without the lost ones.

    The rule reads 1-hour windows. East's readings are few and even, so its window moves in clean
    steps while North's sales window is noisy: East decides both edges. North is already clearly
    down (-25%) when East's window passes +30% (about 14:23; the alert fires ten minutes later),
    and still clearly down when East's falls back under +30% (about 15:52): one episode, no hovering."""
    drop, rise = 0.4, 0.8
    starts, sales_back = today + _offset(13, 45), today + _offset(15, 30)
    push_starts, push_ends = today + _offset(14), today + _offset(15, 15)
    removed: set[int] = set()
    # Ten-minute slices, each losing 40% of its amount: the drop is even across the window.
    for slice_start in range(int(starts), int(sales_back), 600):
        rows = [e for e in pos_today if e.payload["region"] == "North" and slice_start <= e.at < slice_start + 600]
        target, taken = drop * sum(e.payload["amount"] for e in rows), 0.0
        for event in rows[::2] + rows[1::2]:  # every other row first: no bias towards the slice's start
            if taken >= target:
                break
            removed.add(id(event))  # events are unhashable dataclasses: their identity marks them
            taken += event.payload["amount"]
    for event in signals_today:
        if event.payload["region"] == "East" and push_starts <= event.at < push_ends:
            event.payload["value"] = round(event.payload["value"] * (1 + rise), 2)
            event.payload["detail"] = "Voltix regional price push: 15% off connectors and drives"
    story = CompetitorPush(rules=("north-sales-drop-east-competitor", "north-sales-drop-east-competitor-zh"),
                           region="North", competitor_region="East", severity="orange", starts=_utc(starts),
                           ends=_utc(sales_back), sales_drop=drop, competitor_rise=rise)
    return [event for event in pos_today if id(event) not in removed], story


def _plant_lazy_lead(people: _Identities, today: float) -> tuple[list[_Event], LazyRep]:
    """Late morning: a Shenyang supermarket chain reads the POS rollout case study, the POS
    pricing page, sends the quote form, and calls three minutes later asking for the quote."""
    account = "Shenyang Xinghe Supermarket Chain"
    visitor = _Visitor(people.visitor(), "Northeast", "retail", account)
    email, phone = "procurement@xinghe-mart.example.cn", people.phone()
    case, pricing = _CONTENT["cs-pos-retail-chain"], _CONTENT["pricing-pos-terminal"]
    form_at = today + _offset(11, 12)
    events = [
        _Event(today + _offset(11, 2), "web", _web_payload(visitor, "page_view", SITE + case.path, case.id, 55.0)),
        _Event(today + _offset(11, 8), "web", _web_payload(visitor, "page_view", SITE + pricing.path, pricing.id,
                                                           140.0)),
        _Event(form_at, "web", _web_payload(visitor, "form_submit", f"{SITE}/contact?topic=quote", None, 0.0)
               | {"email": email, "phone": phone}),
    ]
    text = ("客户：您好，我是沈阳星河连锁超市的采购。\n客户：我们上午在网站上提交了询价表单，还没有人联系我们。\n"
            "客户：我们有四十多家门店要换收银终端，能给我们一个报价吗？我们希望本季度完成采购。\n坐席：好的，我记录一下。")
    events.append(_Event(form_at + 180, "call", {
        "call_id": "call-lazy-01", "phone": phone, "email": email, "line": "sales", "agent": "agent-03",
        "language": "zh", "text": text, "duration_seconds": 240, "region": visitor.region}))
    story = LazyRep(rep_id=LAZY_ID, visitor_id=visitor.id, email=email, phone=phone, region=visitor.region,
                    trigger="pricing-and-contact", form_at=_utc(form_at), sla_minutes=5.0)
    return events, story


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, timezone.utc)


# ---- files -----------------------------------------------------------------------------------


def write_world(world: World, folder: Path) -> dict[str, Path]:
    """The world as the files a replay reads, by name: events, roster, deals, responses, stories."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name.split(".")[0]: folder / name
             for name in ("events.jsonl", "roster.yaml", "deals.jsonl", "responses.yaml", "stories.json")}
    with paths["events"].open("w", encoding="utf-8") as file:
        file.writelines(json.dumps({"source": source, **payload}, ensure_ascii=False) + "\n"
                        for source, payload in world.events)
    roster = {"reps": [_roster_entry(rep) for rep in world.reps]}
    paths["roster"].write_text(yaml.safe_dump(roster, allow_unicode=True, sort_keys=False, width=120,
                                                   default_flow_style=None), encoding="utf-8")
    paths["deals"].write_text("".join(deal.model_dump_json() + "\n" for deal in world.deals), encoding="utf-8")
    paths["responses"].write_text(yaml.safe_dump(dict(world.responses), sort_keys=False), encoding="utf-8")
    paths["stories"].write_text(json.dumps(world.stories.to_json(), indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    return paths


def _roster_entry(rep: Rep) -> dict[str, Any]:
    """A rep as config/roster.yaml writes one: flags and skill kinds only when they say something."""
    entry = rep.model_dump(mode="json")
    return {key: value for key, value in entry.items()
            if not (key in ("active", "available") and value is True) and value != {}}


def read_stories(path: Path) -> Stories:
    return Stories.from_json(json.loads(path.read_text(encoding="utf-8")))
