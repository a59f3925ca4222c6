from django.apps import AppConfig


class SubmittalsConfig(AppConfig):
    name = "submittals"
    verbose_name = "Submittals"

    def ready(self):
        """Register the access rules (``rules.py``) and plug the submittals into the hooks
        of the facilities and the libraries, which stand below them (``submittals.hooks``)."""
        from facilities import hooks as facility_hooks
        from libraries import hooks as library_hooks

        from . import (
            hooks,
            rules,  # noqa: F401  (registers the access rules)
        )
        from .facility_information import activity_questions
        from .querysets import facilities_answering_yes, overdue_facilities

        facility_hooks.merge_refusals.register(hooks.refuse_merge_while_drafting)
        facility_hooks.merge_moves.register(hooks.move_submittals_on_merge)
        facility_hooks.overdue_facilities.register(overdue_facilities)
        facility_hooks.element_submittals.register(hooks.element_submittals)
        facility_hooks.counted_activities.register(hooks.counted_activities)
        facility_hooks.submittal_history.register(hooks.submittal_history)
        facility_hooks.activity_questions.register(activity_questions)
        facility_hooks.answered_yes.register(facilities_answering_yes)
        facility_hooks.reported_elements.register(hooks.elements_reported)
        library_hooks.chemical_picked.register(hooks.chemical_picked_by_inventories)
