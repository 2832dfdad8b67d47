import asyncio
import os

import pytest


def make_worker(ray):
    @ray.remote
    class Worker:
        def run(self, batch, die_once_flag=None):
            if die_once_flag is not None and not os.path.exists(die_once_flag):
                open(die_once_flag, "w").close()
                os._exit(1)  # the replica dies mid-batch, like a crashed process
            return [x * 10 for x in batch]

        def run_where(self, batch, die_once_flag=None):
            return os.getpid(), self.run(batch, die_once_flag)

        def pid(self):
            return os.getpid()

    return Worker


@pytest.mark.ray
def test_map_keeps_batch_order(ray_session):
    from hub.actors.pool import BatchPool

    pool = BatchPool(make_worker(ray_session), 2)
    assert pool.map("run", [[1, 2], [3], [4, 5, 6]]) == [[10, 20], [30], [40, 50, 60]]


@pytest.mark.ray
def test_batch_of_a_dead_replica_is_resubmitted(ray_session, tmp_path):
    from hub.actors.pool import BatchPool

    pool = BatchPool(make_worker(ray_session), 1)
    before = pool.broadcast("pid")

    async def go():
        return await pool.submit("run", [7, 8], str(tmp_path / "died"))

    assert asyncio.run(go()) == [70, 80]
    assert pool.resubmitted >= 1
    assert pool.broadcast("pid") != before  # Ray restarted the replica


@pytest.mark.ray
def test_batch_of_a_dead_replica_goes_to_a_live_one(ray_session, tmp_path):
    from hub.actors.pool import BatchPool

    pool = BatchPool(make_worker(ray_session), 2)
    before = pool.broadcast("pid")

    async def go():
        return await pool.submit("run_where", [4], str(tmp_path / "died"))

    pid, result = asyncio.run(go())
    assert result == [40]
    assert pool.resubmitted == 1
    assert pid in before  # the survivor answered, not the replica Ray is restarting
