"""Dependencies the hub's speed relies on without importing them itself."""

import asyncio


def test_sniffio_is_installed_for_httpcores_per_request_look_up() -> None:
    # httpcore asks sniffio which async library runs on every async request; without
    # the package, each ask is a failed import that searches sys.path (~70 us)
    import httpcore._synchronization as sync
    import sniffio

    async def ask() -> tuple[str, str]:
        return sync.current_async_library(), sniffio.current_async_library()

    assert asyncio.run(ask()) == ("asyncio", "asyncio")
