"""What every route and page shares, one concern a module.

- ``deps``: the app's state, the request's locale, its transaction and its actor
  (``ContextDep``, ``SessionDep``, ``CurrentActor``, ``PageActor``…);
- ``params``: the parameter and response types routes declare (bounded integers, times);
- ``security``: response headers, the CSRF refusal, text no database can store;
- ``errors``: the one error shape, its handlers, and its declaration in the OpenAPI.
"""
