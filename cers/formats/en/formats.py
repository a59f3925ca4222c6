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

# What a person may type into a date field (a browser without a date picker sends what was
# typed): Django's English formats less those with a two-digit year, which Python reads as
# 1969 to 2068 (12/31/68 would be 2068) rather than refusing.
DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2006-10-25, what a date picker sends
    "%m/%d/%Y",  # 10/25/2006
    "%b %d %Y",  # Oct 25 2006
    "%b %d, %Y",  # Oct 25, 2006
    "%d %b %Y",  # 25 Oct 2006
    "%d %b, %Y",  # 25 Oct, 2006
    "%B %d %Y",  # October 25 2006
    "%B %d, %Y",  # October 25, 2006
    "%d %B %Y",  # 25 October 2006
    "%d %B, %Y",  # 25 October, 2006
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M",
]
