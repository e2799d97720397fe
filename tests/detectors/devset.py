def corpus(seed=1):
    return iter(())
