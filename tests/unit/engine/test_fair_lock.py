"""FairLock hands itself to waiters in arrival order."""

import threading
import time

from n8nclone.engine.fair_lock import FairLock


def test_waiters_get_the_lock_in_the_order_they_asked():
    # given a held lock and three threads asking for it one after another
    lock, order = FairLock(), []
    lock.acquire()

    def take(name: str) -> None:
        with lock:
            order.append(name)

    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=take, args=(name,))
        thread.start()
        threads.append(thread)
        while len(lock._waiters) < len(threads):  # wait until it queued
            time.sleep(0.001)

    # when the holder releases it
    lock.release()
    for thread in threads:
        thread.join(5)

    # expect them served first come, first served, and the lock free again
    assert order == ["first", "second", "third"]
    assert lock._held is False


def test_a_releasing_thread_cannot_take_the_lock_back_before_a_waiter():
    # given a thread waiting while the holder releases and immediately re-acquires
    lock, got = FairLock(), []
    lock.acquire()
    waiter = threading.Thread(target=lambda: (lock.acquire(), got.append("waiter"),
                                              lock.release()))
    waiter.start()
    while not lock._waiters:
        time.sleep(0.001)

    lock.release()
    lock.acquire()
    got.append("holder")
    lock.release()
    waiter.join(5)

    # expect the waiter to have gone first
    assert got == ["waiter", "holder"]
