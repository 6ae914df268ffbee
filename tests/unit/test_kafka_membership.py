from pathlib import Path

from cdc_sync.kafka.membership import static_member


def test_auto_ids_are_stable_per_slot_and_never_shared_on_one_host(tmp_path: Path) -> None:
    """Invariant: two live processes of one group on a host never get the same instance id,
    and a slot freed by a dead process is taken again by the next one (same id after restart)."""
    first = static_member("g", "auto", tmp_path)
    second = static_member("g", "auto", tmp_path)
    other_group = static_member("h", "auto", tmp_path)
    assert first.instance_id is not None and first.instance_id.endswith("-0")
    assert second.instance_id is not None and second.instance_id.endswith("-1")
    assert other_group.instance_id is not None and other_group.instance_id.endswith("-0")
    first.release()  # as the kernel does when the process dies
    again = static_member("g", "auto", tmp_path)
    assert again.instance_id == first.instance_id


def test_configured_id_is_used_and_empty_turns_static_membership_off(tmp_path: Path) -> None:
    assert static_member("g", "consumer-a", tmp_path).instance_id == "consumer-a"
    assert static_member("g", "", tmp_path).instance_id is None
