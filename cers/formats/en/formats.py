"""One date and time format across the site (FORMAT_MODULE_PATH): ISO dates, 24-hour times,
and the time zone's abbreviation (PST or PDT), since regulators and businesses read the same
record from different places. Templates print ``|date`` and ``|date:"DATETIME_FORMAT"``."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i T"
MONTH_DAY_FORMAT = "F j"
YEAR_MONTH_FORMAT = "F Y"
