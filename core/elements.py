"""Submittal element types (CDR 20.0071): the ten modules a facility reports."""

from django.db import models


class SubmittalElement(models.IntegerChoices):
    FACILITY_INFORMATION = 1, "Facility Information"
    HAZARDOUS_MATERIALS_INVENTORY = 2, "Hazardous Materials Inventory"
    EMERGENCY_RESPONSE = 3, "Emergency Response and Training Plans"
    UST = 4, "Underground Storage Tanks"
    TIERED_PERMITTING = 5, "Onsite Hazardous Waste Treatment Notification"
    RECYCLABLE_MATERIALS = 6, "Recyclable Materials Report"
    REMOTE_WASTE_CONSOLIDATION = 7, "Remote Waste Consolidation Site Annual Notification"
    HW_TANK_CLOSURE = 8, "Hazardous Waste Tank Closure Certification"
    APSA = 9, "Aboveground Petroleum Storage Act"
    CALARP = 10, "California Accidental Release Prevention"
