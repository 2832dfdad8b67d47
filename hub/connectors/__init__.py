"""The hub's clients of the outside world over httpx: marketplaces (Tmall, JD, Douyin),
the back offices (WMS, ERP, CRM) and the DingTalk robot, with the request signing the
marketplaces and DingTalk check. This root is their public API.

>>> from hub.connectors import jd_sign, same_signature
>>> same_signature(jd_sign({"a": "1"}, "secret"), jd_sign({"a": "1"}, "secret"))
True
"""

from hub.connectors.backoffice import (
    BackOfficeClient,
    BackOfficeError,
    BackOfficeRejected,
    BackOfficeUnavailable,
)
from hub.connectors.connections import Connections
from hub.connectors.crm import CrmClient
from hub.connectors.dingtalk import (
    SIGN_REFUSED,
    TOKEN_UNKNOWN,
    TOO_FAST,
    AlertSink,
    DingTalkError,
    DingTalkRobot,
    DingTalkSignError,
    DingTalkThrottled,
    DingTalkTokenError,
    DingTalkUnavailable,
    MemoryAlertSink,
    markdown_message,
    text_message,
)
from hub.connectors.dingtalk import signature as dingtalk_signature
from hub.connectors.erp import ErpClient
from hub.connectors.marketplace import (
    DouyinClient,
    JdClient,
    MarketplaceClient,
    TmallClient,
    client_for,
)
from hub.connectors.retry import (
    AuthError,
    MarketplaceClientError,
    RequestRejected,
    RetryPolicy,
    ServerError,
    ThrottledError,
)
from hub.connectors.signing import (
    TOP_SIGN_METHODS,
    douyin_param_json,
    douyin_sign,
    jd_sign,
    top_sign,
)
from hub.connectors.signing import same as same_signature
from hub.connectors.wms import WmsClient

__all__ = [
    "SIGN_REFUSED",
    "TOKEN_UNKNOWN",
    "TOO_FAST",
    "TOP_SIGN_METHODS",
    "AlertSink",
    "AuthError",
    "BackOfficeClient",
    "BackOfficeError",
    "BackOfficeRejected",
    "BackOfficeUnavailable",
    "Connections",
    "CrmClient",
    "DingTalkError",
    "DingTalkRobot",
    "DingTalkSignError",
    "DingTalkThrottled",
    "DingTalkTokenError",
    "DingTalkUnavailable",
    "DouyinClient",
    "ErpClient",
    "JdClient",
    "MarketplaceClient",
    "MarketplaceClientError",
    "MemoryAlertSink",
    "RequestRejected",
    "RetryPolicy",
    "ServerError",
    "ThrottledError",
    "TmallClient",
    "WmsClient",
    "client_for",
    "dingtalk_signature",
    "douyin_param_json",
    "douyin_sign",
    "jd_sign",
    "markdown_message",
    "same_signature",
    "text_message",
    "top_sign",
]
