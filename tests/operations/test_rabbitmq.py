"""With RabbitMQ as the broker (CELERY_BROKER_URL=amqp://…; .ci/run runs the operations tests so when one answers on
127.0.0.1:5672), the operations' queue is a quorum queue on a topic exchange, and a retry's countdown waits in
RabbitMQ's delayed-delivery queues rather than unacknowledged in a worker (test_resilience's retries go through
them). Skipped on the default Redis broker."""

from __future__ import annotations

import amqp.exceptions
import kombu
import pytest
from django.conf import settings

from tests.cloudharness import free_port

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not settings.BROKER_IS_AMQP, reason="the broker is Redis (CELERY_BROKER_URL is not amqp://)"),
]


def test_the_queue_is_a_quorum_queue(worker_factory):
    worker_factory()  # declares the queue, as a deployment's worker does
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with kombu.Connection(settings.CELERY_BROKER_URL) as conn:
        channel = conn.channel()
        channel.queue_declare(queue, passive=True)  # it exists
        # RabbitMQ refuses to declare an existing queue with another type: the refusal says which type it has.
        with pytest.raises(amqp.exceptions.PreconditionFailed) as refused:
            conn.channel().queue_declare(queue, durable=True, auto_delete=False, arguments={"x-queue-type": "classic"})
    assert "x-queue-type" in str(refused.value)
    assert "quorum" in str(refused.value)


def test_readiness_names_rabbitmq(db, settings):
    from dashboard import health

    assert health.readiness(2.0)["rabbitmq"] == "ok"
    settings.CELERY_BROKER_URL = f"amqp://guest:guest@127.0.0.1:{free_port()}//"  # nothing listens there
    answer = health.readiness(2.0)
    assert answer["rabbitmq"] != "ok"
    assert answer["database"] == "ok"
