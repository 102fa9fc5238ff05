"""Contracts of leadflow: inbound events, outbound records, shared value types. No I/O."""

from models.base import SCHEMA_VERSION, stable_id
from models.catalog import SOURCE_TOPICS, TOPICS, TopicSpec
from models.events import EVENT_MODELS, CallTranscript, Event, ExternalSignal, PosRow, WebEvent
from models.alerts import Alert
from models.records import AcceptedEvent, DeadLetter, RegionMetric, RoutedLead, ScoredLead
from models.reps import Rep, Roster

__all__ = [
    "SCHEMA_VERSION", "stable_id", "SOURCE_TOPICS", "TOPICS", "TopicSpec", "EVENT_MODELS",
    "CallTranscript", "Event", "ExternalSignal", "PosRow", "WebEvent", "AcceptedEvent", "Alert",
    "DeadLetter", "RegionMetric", "RoutedLead", "ScoredLead", "Rep", "Roster",
]
