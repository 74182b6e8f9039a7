"""The HTTP front end that ``fsm serve`` runs: technicians' phones send their positions
here (the OsmAnd protocol); the customer's pages come to the same app next. As thin as
the CLI and the dashboard: parse, call one core service, answer."""
