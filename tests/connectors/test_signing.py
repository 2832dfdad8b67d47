"""Request signatures, checked against the documented recipes written out by hand."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hub.connectors.signing import douyin_param_json, douyin_sign, jd_sign, same, top_sign

PARAMS = {"method": "taobao.trades.sold.increment.get", "app_key": "12345678",
          "session": "tok", "timestamp": "2026-11-11 00:00:00", "v": "2.0",
          "sign_method": "md5", "page_no": "1", "empty": "", "sign": "ignored"}
CONCAT = ("app_key12345678methodtaobao.trades.sold.increment.getpage_no1"
          "sessiontoksign_methodmd5timestamp2026-11-11 00:00:00v2.0")


def test_top_md5_wraps_sorted_pairs_in_the_secret_and_skips_sign_and_empty() -> None:
    want = hashlib.md5(f"sec{CONCAT}sec".encode()).hexdigest().upper()
    assert top_sign(PARAMS, "sec") == want
    assert jd_sign(PARAMS, "sec") == want  # JD uses the same recipe


def test_top_hmac_variants() -> None:
    assert top_sign(PARAMS, "sec", "hmac") == hmac.new(
        b"sec", CONCAT.encode(), hashlib.md5).hexdigest().upper()
    assert top_sign(PARAMS, "sec", "hmac-sha256") == hmac.new(
        b"sec", CONCAT.encode(), hashlib.sha256).hexdigest().upper()
    with pytest.raises(ValueError, match="sign_method"):
        top_sign(PARAMS, "sec", "sha1")


def test_douyin_signs_the_fixed_fields_with_hmac_sha256() -> None:
    body = douyin_param_json({"size": 100, "page": 0, "note": "双十一"})
    assert body == '{"note":"双十一","page":0,"size":100}'
    text = f"secapp_keykmethodorder.searchListparam_json{body}timestamp1700000000v2sec"
    assert douyin_sign("k", "order.searchList", body, "1700000000", "2", "sec") == hmac.new(
        b"sec", text.encode(), hashlib.sha256).hexdigest()
    assert douyin_sign("k", "order.searchList", body, "1700000000", "2", "sec", "md5") == \
        hashlib.md5(text.encode()).hexdigest()


def test_same_is_case_insensitive_and_exact() -> None:
    assert same("ABCDEF", "abcdef")
    assert not same("ABCDEF", "ABCDEE")
