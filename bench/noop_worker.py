"""Baseline for bench/engine.py: a plain Dramatiq worker (1 process x 8 threads) whose actor
does nothing. Usage: python bench/noop_worker.py REDIS_URL NAMESPACE"""

import signal
import sys
import threading

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker


def main() -> None:
    url, namespace = sys.argv[1], sys.argv[2]
    broker = RedisBroker(url=url, namespace=namespace, middleware=[])
    dramatiq.Actor(lambda: None, broker=broker, actor_name="noop", queue_name="noop",
                   priority=0, options={})
    worker = Worker(broker, worker_threads=8, worker_timeout=100)
    worker.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("worker ready", flush=True)
    stop.wait()
    worker.stop()


if __name__ == "__main__":
    main()
