"""dermatrack: an open platform for dermal rejuvenation.

The package is laid out as a domain core with no I/O (``knowledge``, ``clinic``,
``imaging``, ``devices``, ``outcomes``) and adapters around it (``store``, ``reports``,
``web``, ``cli``).
"""

__version__ = "0.1.0"
