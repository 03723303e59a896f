"""Flask blueprints, rendering and the error handler. Thin: parse, call, render."""
