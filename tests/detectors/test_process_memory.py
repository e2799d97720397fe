from detectors import MemoryBaselines, ProcessMemory


def test_one_value_per_baselines_and_key_the_oldest_key_dropped_past_kept() -> None:
    memory: ProcessMemory[list[str]] = ProcessMemory(list, kept=2)
    store, other = MemoryBaselines(), MemoryBaselines()
    memory.of(store, "app-a").append("asked")
    assert memory.of(store, "app-a") == ["asked"]
    assert memory.of(other, "app-a") == []  # another store (another processor's baselines) has its own
    memory.of(store, "app-b")
    memory.of(store, "app-c")  # a third key: app-a, the oldest, is dropped
    assert memory.of(store, "app-a") == []
