"""Creating leadflow's topics (`leadflow topics create`), safe to run again."""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from config.settings import Settings
from models.catalog import TOPICS, TopicSpec


@dataclass(frozen=True)
class TopicPlan:
    name: str
    partitions: int
    replication: int
    configs: dict[str, str]


def plan(settings: Settings) -> list[TopicPlan]:
    return [
        TopicPlan(settings.topic(topic.name), topic.partitions or settings.topic_partitions, settings.topic_replication,
                  _configs(topic))
        for topic in TOPICS
    ]


def _configs(topic: TopicSpec) -> dict[str, str]:
    configs = {"max.message.bytes": str(topic.max_message_bytes)}
    if topic.compacted:
        configs["cleanup.policy"] = "compact"
    if topic.retention_days is not None:
        configs["retention.ms"] = str(topic.retention_days * 86_400_000)
    return configs


def wait_for_topics(settings: Settings, timeout: float = 60.0) -> list[str]:
    """Wait until every leadflow topic is in the cluster's metadata; returns those still missing.

    A consumer group that joins while a new topic is missing from the metadata can keep an
    empty assignment for good (seen with a freshly started broker), so the worker waits here.
    """
    consumer = KafkaConsumer(group_id=None, **settings.kafka_python_options())
    try:
        deadline = time.monotonic() + timeout
        while True:
            missing = [p.name for p in plan(settings) if not consumer.partitions_for_topic(p.name)]
            if not missing or time.monotonic() > deadline:
                return missing
            time.sleep(0.5)  # metadata refresh period while topics propagate
    finally:
        consumer.close()


def create_topics(settings: Settings) -> tuple[list[str], list[str]]:
    """Create every missing topic; returns (created, already present)."""
    admin = KafkaAdminClient(client_id=f"{settings.app_id}-admin", **settings.kafka_python_options())
    try:
        existing = set(admin.list_topics())
        wanted = plan(settings)
        missing = [p for p in wanted if p.name not in existing]
        created: list[str] = []
        for item in missing:
            try:
                admin.create_topics([NewTopic(item.name, item.partitions, item.replication, topic_configs=item.configs)])
                created.append(item.name)
            except TopicAlreadyExistsError:  # another process created it meanwhile
                pass
        return created, [p.name for p in wanted if p.name not in created]
    finally:
        admin.close()
