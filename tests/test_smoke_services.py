from facilities.models import Facility
from organizations.models import Organization


def test_it_builds_the_cast(cast):
    assert cast.facility.cers_id == 10_000_001
    assert list(Facility.objects.for_user(cast.viewer)) == [cast.facility_yolo, cast.facility]
    assert not Facility.objects.for_user(cast.outsider).filter(pk=cast.facility.pk).exists()
    assert set(Facility.objects.for_user(cast.pa_viewer)) == {cast.facility}
    assert set(Facility.objects.for_user(cast.cupa2_reviewer)) == {
        cast.facility_yolo,
        cast.other_facility,
    }
    assert Facility.objects.for_user(cast.state_admin).count() == 3
    assert Organization.objects.for_user(cast.cupa_reviewer).get() == cast.org
