"""Nothing at all: the sandbox's own cost."""


def run(inputs, params):
    return {}
