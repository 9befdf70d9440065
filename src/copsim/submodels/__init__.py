"""The social submodels, one module per section of ODD II.7.

Each module opens with its ODD section and source, says what it reads and
what it writes, names its coefficients as constants, and may define:

- ``step(c)``: its stage of the period (:mod:`copsim.schedule` lists the stages);
- ``init(c)``: its own extra state (kept in ``c.own[<module name>]``);
- ``on_leave(c, slots)`` / ``on_arrive(c, slots)``: what happens to that state
  when practitioners leave or arrive;
- ``measures(c, base)``: its per-step measures (a dict of floats).

``c`` is the :class:`copsim.state.Community`.  docs/architecture.md shows how
to add a mechanism.
"""
