# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ScaleEngine unit tests share: the signature test vectors, nested fields, a fake transport, a fake clock, a fake client, validated parameters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine import args
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import REPEATABLE_COMMANDS, ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.ledger import TimestampLedger
from tests.unit.plugins.module_utils.spec import validated

# Test vectors measured with PHP 8.2 json_encode (docs/scaleengine.md, "Signing, retries and failures").
SECRET = "8fc8c48da81e6a2a06a9556379bf798af508dc0792497c678b4c3532ba8b637f"
API_KEY = "APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE"
CDN = 158
TIMESTAMP = 1700000000

VECTORS = [
    (
        "stream.close",
        {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"},
        CDN,
        '{"command":"stream.close","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","stream":"my_live_stream"}',
        "FaVyNfvFbt22z98k2uJIG70KDUwTAevh1ZNh9wP+nAI=",
    ),
    (
        "pushpublish.disconnect",
        {"app": "demo-origin", "inst": "live", "entry_name": "session_1"},
        CDN,
        '{"command":"pushpublish.disconnect","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","entry_name":"session_1"}',
        "o+R+nK6ibYSPMw6CPP08rmNpwoW+801OGd9FcCp8SD0=",
    ),
    (
        "viewer.live",
        {"app": "demo-origin", "url": "sestore3/username/path/filename.mp4"},
        CDN,
        '{"command":"viewer.live","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","url":"sestore3\\/username\\/path\\/filename.mp4"}',
        "W5Qiw7g4SUm0lI/1dA8XM2YDHiOShSmCU0lRPJbQNhY=",
    ),
    (
        "stream.details",
        {"app": "demo-origin", "inst": "live", "stream": "caf\u00e9_\U0001f600"},
        CDN,
        '{"command":"stream.details","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","stream":"caf\\u00e9_\\ud83d\\ude00"}',
        "YzYnb4iCdInxR4MNqrNd0+4ukxZojIj+zm9FOvIJFrw=",
    ),
    (
        "stream.close",
        {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"},
        "158",
        '{"command":"stream.close","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":"158",'
        '"app":"demo-origin","inst":"live","stream":"my_live_stream"}',
        "i5amLjwRQlX2Z6rAiaBVgzbuEl6RYqLqIOjHCOxIZM0=",
    ),
]

PARAMS = dict(api_url="http://api.example.net/stable", cdn=CDN, api_key=API_KEY, api_secret=SECRET, retries=3)


def nested(levels: int):
    """``levels`` objects inside each other around a string: {"n": {"n": ... "leaf"}}."""
    value = "leaf"
    for _level in range(levels):
        value = {"n": value}
    return value


def hmac_b64(text: str, key: bytes = SECRET.encode()) -> str:
    return base64.b64encode(hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()).decode()


class FakeResponse:
    """The parts of requests.Response the client reads: the status and the body as bytes."""

    def __init__(self, body, status=200):
        if isinstance(body, bytes):
            self.content = body
        else:
            self.content = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.status_code = status


class FakeHttp:
    """Stands in for HttpClient: answers in turn; calls prepare() once per answer, as each try does."""

    def __init__(self, *answers, tries_per_answer=1):
        self.answers = list(answers)
        self.tries_per_answer = tries_per_answer
        self.posted = []
        self.repeatable = []
        self.closed = False

    def request(self, method, url, prepare=None, repeatable=None, **kwargs):
        assert method == "POST" and repeatable in (True, False)
        self.repeatable.append(repeatable)
        for _attempt in range(self.tries_per_answer):
            self.posted.append((url, prepare()["files"]["json"][1]))
        return FakeResponse(self.answers.pop(0))

    def close(self):
        self.closed = True


class FakeClock:
    def __init__(self, now=1700000000.2):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def make_client(*answers, tmp_path, tries_per_answer=1, warnings=None, context=None):
    """A real ScaleEngineClient over a FakeHttp, its ledger in ``tmp_path``; ``warnings`` collects what it warns."""
    clock = FakeClock()
    ledger = TimestampLedger(path=str(tmp_path / "ledger.json"), clock=clock, sleep=clock.sleep)
    http = FakeHttp(*answers, tries_per_answer=tries_per_answer)
    context = context or ExecutionContext(warn=(warnings if warnings is not None else []).append)
    client = ScaleEngineClient(PARAMS, context, http=http, clock=clock, sleep=clock.sleep, ledger=ledger)
    return client, http, clock


class FakeClient(ScaleEngineClient):
    """A ScaleEngineClient whose ``send`` answers from a script and records what it was asked; nothing is signed or posted.

    ``answers`` maps a command to its answer, or to a list of answers given in turn.
    """

    def __init__(self, answers: dict, context=None):
        super().__init__(PARAMS, context or ExecutionContext(), http=FakeHttp(), ledger=object())
        self.answers = {command: list(answer) if isinstance(answer, list) else answer for command, answer in answers.items()}
        self.sent: list[tuple[str, dict, bool]] = []

    def send(self, command, fields, repeatable=None):
        self.sent.append((command, dict(fields), command in REPEATABLE_COMMANDS if repeatable is None else repeatable))
        answer = self.answers[command]
        return answer.pop(0) if isinstance(answer, list) else answer

    def commands(self) -> list[str]:
        return [command for command, _fields, _repeatable in self.sent]


def stream_params(**raw) -> dict:
    return validated(args.STREAM_MODULE_KWARGS, dict(PARAMS, **raw))


def pushpublish_params(**raw) -> dict:
    return validated(args.PUSHPUBLISH_MODULE_KWARGS, dict(PARAMS, **raw))


def viewer_params(**raw) -> dict:
    return validated(args.VIEWER_INFO_MODULE_KWARGS, dict(PARAMS, **raw))


def command_params(**raw) -> dict:
    return validated(args.COMMAND_MODULE_KWARGS, dict(PARAMS, **raw))
