from datetime import datetime, timezone

from models.events import CallTranscript, PosRow, WebEvent
from models.reps import Rep
from streams.round_robin import is_routing_trigger, rep_index, route
from tests.factories import call, pos, web

REPS = [Rep(id=f"rep-{i}", name=f"Rep {i}") for i in range(3)]
NOW = datetime(2026, 11, 27, tzinfo=timezone.utc)


def test_downloads_forms_and_calls_trigger_routing_page_views_do_not() -> None:
    assert is_routing_trigger(WebEvent.model_validate(web(kind="content_download")))
    assert is_routing_trigger(WebEvent.model_validate(web(kind="form_submit")))
    assert not is_routing_trigger(WebEvent.model_validate(web(kind="page_view")))
    assert is_routing_trigger(CallTranscript.model_validate(call()))
    assert not is_routing_trigger(PosRow.model_validate(pos()))


def test_reps_take_turns_in_roster_order() -> None:
    event = WebEvent.model_validate(web())
    chosen = [route("lead", event, REPS, (counter, 0, 1), NOW, 0.1).rep_id for counter in range(5)]
    assert chosen == ["rep-0", "rep-1", "rep-2", "rep-0", "rep-1"]


def test_partitions_start_apart_and_together_cover_the_team_evenly() -> None:
    team, partitions = 12, 4
    firsts = [rep_index(0, partition, partitions, team) for partition in range(partitions)]
    assert firsts == [0, 1, 2, 3]
    picks = [rep_index(c, p, partitions, team) for p in range(partitions) for c in range(3)]
    assert sorted(picks) == list(range(team))


def test_the_routing_id_is_deterministic_and_the_decision_explained() -> None:
    event = WebEvent.model_validate(web())
    first = route("lead-1", event, REPS, (4, 0, 1), NOW, 0.05)
    again = route("lead-1", event, REPS, (4, 0, 1), NOW, 0.07)
    assert first.routing_id == again.routing_id
    assert first.routing_id != route("lead-2", event, REPS, (4, 0, 1), NOW, 0.05).routing_id
    assert first.reasons == ["next in rotation (position 2 of 3 active reps)", "triggered by web content_download"]
    assert (first.trigger_event_id, first.trigger_source, first.event_ts) == (event.event_id, "web", event.ts)
