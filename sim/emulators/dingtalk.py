"""Emulated DingTalk custom group robots: ``POST /robot/send?access_token=..&timestamp=..
&sign=..`` with the real message formats, signature check and rate limit.

Checks, in order, each answered as DingTalk does (HTTP 200 with ``errcode``):

- unknown ``access_token`` -> 300001 ``token is not exist``
- signed robot (it has a ``secret``): ``timestamp`` (ms) missing, not a number or more
  than one hour from the robot's clock -> 310000 ``invalid timestamp``; ``sign`` not
  base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")) -> 310000 ``sign not match``
- throttled, or the 21st accepted message within 60 s -> 130101 ``send too fast, exceed
  20 times per minute``; the robot then refuses everything for 10 minutes
- body not JSON, ``msgtype`` not text / markdown, or its content missing -> 40035
  (best effort: DingTalk's wording for these varies); over 20,000 bytes -> 460101
- keywords set and none in the message -> 310000 ``keywords not in content``

Every message is recorded, accepted or refused (also by an outage or injected error,
then with ``errcode`` null and ``http_status``): ``GET /_records`` -> ``{"messages":
[{"seq", "at", "robot", "accepted", "errcode", "errmsg", "msgtype", "title",
"text"}]}`` (robot null for an unknown token). Accepted messages are also listed by
``GET /_messages[?robot=NAME]`` -> ``{"messages":
[{"robot", "at", "msgtype", "title", "text", "at_mobiles", "is_at_all"}]}``,
``DELETE /_messages`` clears them. ``GET /_robots`` shows each robot's minute count and
throttle. Common routes: ``/healthz``, ``/_stats``, ``/_control/faults``.

The robot's clock (timestamp freshness, the minute window, the 10-minute throttle) is
the wall clock unless another is given: DingTalk compares with real time. The records'
``at`` reads ``record_clock`` (the suite gives its business clock; default: the
robot's), ``at_wall`` the wall clock.
"""

from __future__ import annotations

import hmac
import threading
from collections import Counter, deque
from datetime import datetime, timedelta
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hub.clock import Clock
from sim.emulators.backoffice import BackOffice, Emulator, OutageWindow, json_response, mount_common
from sim.emulators.signatures import dingtalk as signature

# DingTalk's documented errcodes: the emulator keeps its own copy of the platform's facts
TOKEN_UNKNOWN, SIGN_REFUSED, TOO_FAST = 300001, 310000, 130101
BAD_BODY, TOO_LONG = 40035, 460101
MAX_BYTES = 20_000


class RobotConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)  # how reports and /_messages name it (not secret)
    access_token: SecretStr
    secret: SecretStr = SecretStr("")  # empty: the robot does not check signatures
    keywords: list[str] = []  # DingTalk's "custom keywords" security setting


class DingTalkEmulatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    robots: list[RobotConfig] = Field(default_factory=lambda: [RobotConfig(
        name="ops", access_token=SecretStr("demo-token"), secret=SecretStr("SECdemo-secret"))])
    per_minute: int = Field(default=20, ge=1)
    throttle_s: float = Field(default=600.0, ge=0)
    timestamp_window_s: float = Field(default=3600.0, gt=0)
    business_time: bool = False  # in the suite: use the rehearsal's clock, not the wall's
    outages: list[OutageWindow] = []
    seed: int = 0

    @model_validator(mode="after")
    def _unique(self) -> DingTalkEmulatorConfig:
        tokens = [r.access_token.get_secret_value() for r in self.robots]
        names = [r.name for r in self.robots]
        if len(set(tokens)) != len(tokens) or len(set(names)) != len(names):
            raise ValueError("robots: names and access tokens must be unique")
        return self


class Refused(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


class _Robot:
    def __init__(self, config: RobotConfig) -> None:
        self.config = config
        self.sent: deque[datetime] = deque()  # accepted in the last minute
        self.throttled_until: datetime | None = None
        self.accepted = 0
        self.refused: Counter[int] = Counter()


def _content(message: dict[str, Any]) -> tuple[str, str, str]:
    """(msgtype, title, text) of a message in the robot format, or Refused."""
    kind = message.get("msgtype")
    part = message.get(kind) if isinstance(kind, str) else None
    if kind == "text" and isinstance(part, dict) and isinstance(part.get("content"), str) \
            and part["content"]:
        return kind, "", part["content"]
    if kind == "markdown" and isinstance(part, dict) and all(
            isinstance(part.get(k), str) and part[k] for k in ("title", "text")):
        return kind, part["title"], part["text"]
    if kind not in ("text", "markdown"):
        raise Refused(BAD_BODY, f"msgtype {str(kind)[:40]!r} is not supported here "
                                f"(text, markdown)")
    need = "text.content" if kind == "text" else "markdown.title and markdown.text"
    raise Refused(BAD_BODY, f"缺少参数 {need}")


def _best_effort(body: bytes) -> tuple[str | None, str, str]:
    """(msgtype, title, text) of a message body, whatever is readable of it."""
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, "", body[:2000].decode("utf-8", errors="replace")
    if not isinstance(message, dict):
        return None, "", ""
    try:
        return _content(message)
    except Refused:
        kind = message.get("msgtype")
        return (kind if isinstance(kind, str) else None), "", ""


class RobotState:
    """Every robot's minute window, throttle and accepted messages. Thread-safe."""

    def __init__(self, clock: Clock, config: DingTalkEmulatorConfig | None = None, *,
                 record_clock: Clock | None = None) -> None:
        self.clock, self.config = clock, config or DingTalkEmulatorConfig()
        self.record_clock = record_clock or clock  # the records' "at" (business time)
        self._wall = Clock()
        self._robots = {r.access_token.get_secret_value(): _Robot(r) for r in self.config.robots}
        self._lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []  # accepted ones (``/_messages``)
        self.log: list[dict[str, Any]] = []  # every message, refused ones too (records)

    def _check_sign(self, robot: _Robot, timestamp: str | None, sign: str | None) -> None:
        secret = robot.config.secret.get_secret_value()
        if not secret:
            return
        if not timestamp or not timestamp.isdigit():
            raise Refused(SIGN_REFUSED, "invalid timestamp")
        now_ms = self.clock.now().timestamp() * 1000
        if abs(now_ms - int(timestamp)) > self.config.timestamp_window_s * 1000:
            raise Refused(SIGN_REFUSED, "invalid timestamp")
        if not sign or not hmac.compare_digest(signature(secret, int(timestamp)).encode(),
                                               sign.encode()):
            raise Refused(SIGN_REFUSED, "sign not match")

    def _take_slot(self, robot: _Robot, now: datetime) -> None:
        if robot.throttled_until is not None and now < robot.throttled_until:
            raise Refused(TOO_FAST, "send too fast, exceed 20 times per minute")
        while robot.sent and now - robot.sent[0] >= timedelta(seconds=60):
            robot.sent.popleft()
        if len(robot.sent) >= self.config.per_minute:
            robot.throttled_until = now + timedelta(seconds=self.config.throttle_s)
            raise Refused(TOO_FAST, "send too fast, exceed 20 times per minute")

    def send(self, params: dict[str, str], body: bytes) -> dict[str, Any]:
        """One call of ``/robot/send``: DingTalk's answer ``{"errcode", "errmsg"}``.
        Every call is recorded (``log``), accepted or refused."""
        robot = self._robots.get(params.get("access_token", ""))
        answer = self._send(robot, params, body)
        self.note(robot.config.name if robot else None, body, answer)
        return answer

    def note(self, robot: str | None, body: bytes, answer: dict[str, Any],
             **extra: Any) -> None:
        """Record one message with the answer it got (its content read best effort)."""
        kind, title, text = _best_effort(body)
        with self._lock:
            self.log.append({"seq": len(self.log) + 1,
                             "at": self.record_clock.now().isoformat(),
                             "at_wall": self._wall.now().isoformat(),
                             "robot": robot, "accepted": answer.get("errcode") == 0,
                             "errcode": answer.get("errcode"),
                             "errmsg": answer.get("errmsg"), "msgtype": kind,
                             "title": title, "text": text, **extra})

    def _send(self, robot: _Robot | None, params: dict[str, str],
              body: bytes) -> dict[str, Any]:
        if robot is None:
            return {"errcode": TOKEN_UNKNOWN, "errmsg": "token is not exist"}
        with self._lock:
            try:
                self._check_sign(robot, params.get("timestamp"), params.get("sign"))
                now = self.clock.now()
                self._take_slot(robot, now)
                if len(body) > MAX_BYTES:
                    raise Refused(TOO_LONG, f"message too long, exceed {MAX_BYTES} bytes")
                try:
                    message = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raise Refused(BAD_BODY, "缺少参数 json") from None
                if not isinstance(message, dict):
                    raise Refused(BAD_BODY, "缺少参数 json")
                kind, title, text = _content(message)
                words = robot.config.keywords
                if words and not any(w in f"{title}{text}" for w in words):
                    raise Refused(SIGN_REFUSED, "keywords not in content")
            except Refused as refused:
                robot.refused[refused.errcode] += 1
                return {"errcode": refused.errcode, "errmsg": refused.errmsg}
            robot.sent.append(now)
            robot.accepted += 1
            at = message.get("at") if isinstance(message.get("at"), dict) else {}
            self.messages.append({
                "robot": robot.config.name, "at": now.isoformat(), "msgtype": kind,
                "title": title, "text": text,
                "at_mobiles": [str(m) for m in at.get("atMobiles") or []],
                "is_at_all": bool(at.get("isAtAll"))})
        return {"errcode": 0, "errmsg": "ok"}

    def recorded(self, robot: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if robot is None or m["robot"] == robot]

    def export(self) -> dict[str, Any]:
        """The robot's records (contract §2 dingtalk.json): every message, in order."""
        with self._lock:
            return {"messages": list(self.log)}

    def clear(self) -> int:
        with self._lock:
            count = len(self.messages)
            self.messages.clear()
            return count

    def robot_name(self, token: str) -> str | None:
        robot = self._robots.get(token)
        return robot.config.name if robot else None

    def robots(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            return [{"robot": r.config.name, "signed": bool(r.config.secret.get_secret_value()),
                     "accepted": r.accepted, "refused": {str(k): v for k, v in r.refused.items()},
                     "in_last_minute": sum(1 for t in r.sent if now - t < timedelta(seconds=60)),
                     "throttled_until": r.throttled_until.isoformat()
                     if r.throttled_until and r.throttled_until > now else None}
                    for r in self._robots.values()]


def create_app(state: RobotState, office: BackOffice) -> FastAPI:
    app = FastAPI(title="DingTalk robot emulator")
    mount_common(app, office, lambda: {"robots": state.robots(),
                                       "messages": len(state.messages)},
                 records=state.export)

    @app.post("/robot/send")
    async def send(request: Request) -> Response:
        if (blocked := await office.gate("robot/send")) is not None:
            token = request.query_params.get("access_token", "")
            robot = state.robot_name(token)
            state.note(robot, await request.body(), {"errcode": None,
                       "errmsg": f"HTTP {blocked.status_code}"},
                       http_status=blocked.status_code)
            return blocked
        answer = state.send(dict(request.query_params), await request.body())
        if answer["errcode"]:
            office.count("refused", error=str(answer["errcode"]))
        else:
            office.count("accepted")
        return json_response(answer)

    @app.get("/_messages")
    async def messages(robot: str | None = None) -> Response:
        return json_response({"messages": state.recorded(robot)})

    @app.delete("/_messages")
    async def clear() -> Response:
        return json_response({"cleared": state.clear()})

    @app.get("/_robots")
    async def robots() -> Response:
        return json_response({"robots": state.robots()})

    return app


class DingTalkEmulator(Emulator):
    name = "dingtalk"

    def __init__(self, clock: Clock | None = None, config: DingTalkEmulatorConfig | None = None,
                 *, port: int = 0, origin: datetime | None = None,
                 record_clock: Clock | None = None) -> None:
        super().__init__(port=port)
        clock = clock or Clock()
        config = config or DingTalkEmulatorConfig()
        self.state = RobotState(clock, config, record_clock=record_clock)
        self.office = BackOffice("dingtalk", clock, origin=origin, outages=config.outages,
                                 seed=config.seed)
        self.app = create_app(self.state, self.office)

    def records(self) -> dict[str, Any]:
        """What ``GET /_records`` answers (contract §2 dingtalk.json)."""
        return self.state.export()
