"""The PHI firewall: what may be read from DICOM, how identifiers are hashed, what may leave.

DESIGN.md section 4. Four pieces, all plain data or pure functions so that every part of
printharvest (connectors, exports, the API client, reports) and its tests can reuse them:

* ``ANNEX_E_BASIC``: the attributes the DICOM PS3.15 Annex E *Basic Application Level
  Confidentiality Profile* (Table E.1-1) removes or replaces, as pydicom keywords, and
  :func:`identifying_keywords`, that list widened with everything pydicom's data dictionary
  marks as a person name, date, time or UID (the net a test plants tokens in).
* ``READ_TAGS``: the explicit allow-list of header attributes the DICOM connector reads. Some
  of them are identifying (birth date, study date, contrast agent text): those are used in
  memory to derive a number or a flag and are never stored, logged or printed.
* salted hashing of UIDs with a per-home secret (``phi-salt``, mode 0600), so that series and
  studies can be grouped across ingests without keeping a UID in clear;
* :func:`egress_check`: scan bytes or text for planted tokens (tests, and any exporter that
  wants to assert nothing identifying leaves).

Exceptions and log lines may name a file and a DICOM keyword, never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from printharvest.exceptions import ConfigError
from printharvest.privacy.files import private_dir

SALT_NAME = "phi-salt"
SALT_BYTES = 32

# DICOM PS3.15 Table E.1-1, Basic Profile column (every row with an action other than K,
# i.e. D, Z, X, U and their combinations), as pydicom keywords. Rows pydicom does not know
# (retired or very new) are dropped by ``annex_e_tags``; the list is data so that a newer
# edition of the standard is an edit here, not a code change.
ANNEX_E_BASIC: tuple[str, ...] = (
    "AccessionNumber", "AcquisitionComments", "AcquisitionContextSequence", "AcquisitionDate",
    "AcquisitionDateTime", "AcquisitionDeviceProcessingDescription", "AcquisitionProtocolName",
    "AcquisitionTime", "AcquisitionUID", "ActualHumanPerformersSequence",
    "AdditionalPatientHistory", "AdmissionID", "AdmittingDate", "AdmittingDiagnosesCodeSequence",
    "AdmittingDiagnosesDescription", "AdmittingTime", "AffectedSOPInstanceUID", "Allergies",
    "Arbitrary", "AuthorObserverSequence", "BranchOfService", "CassetteID",
    "ConcatenationUID", "ConfidentialityConstraintOnPatientDataDescription",
    "ConsultingPhysicianName", "ContentCreatorIdentificationCodeSequence",
    "ContentCreatorName", "ContentDate", "ContentSequence", "ContentTime",
    "ContextGroupExtensionCreatorUID", "ContrastBolusAgent", "ContributionDateTime",
    "ContributionDescription", "CountryOfResidence", "CreatorVersionUID", "CurrentObserverTrial",
    "CurrentPatientLocation", "CurveDate", "CurveTime", "CustodialOrganizationSequence",
    "DataSetTrailingPadding", "DerivationDescription", "DetectorID", "DeviceDescription",
    "DeviceSerialNumber", "DeviceUID", "DigitalSignatureUID", "DigitalSignaturesSequence",
    "DimensionOrganizationUID", "DischargeDiagnosisDescription", "DistributionAddress",
    "DistributionName", "DoseReferenceUID", "EndAcquisitionDateTime", "EthnicGroup",
    "ExpectedCompletionDateTime", "FailedSOPInstanceUIDList", "FiducialUID",
    "FillerOrderNumberImagingServiceRequest", "FrameComments", "FrameOfReferenceUID",
    "GantryID", "GeneratorID", "GraphicAnnotationSequence", "HumanPerformerName",
    "HumanPerformerOrganization", "IconImageSequence", "IdentifyingComments", "ImageComments",
    "ImagePresentationComments", "ImagingServiceRequestComments", "Impressions",
    "InstanceCoercionDateTime", "InstanceCreationDate", "InstanceCreationTime",
    "InstanceCreatorUID", "InstanceOriginStatus", "InstitutionAddress",
    "InstitutionCodeSequence", "InstitutionName", "InstitutionalDepartmentName",
    "InstitutionalDepartmentTypeCodeSequence", "InsurancePlanIdentification",
    "IntendedRecipientsOfResultsIdentificationSequence", "InterpretationApproverSequence",
    "InterpretationAuthor", "InterpretationDiagnosisDescription", "InterpretationIDIssuer",
    "InterpretationRecorder", "InterpretationText", "InterpretationTranscriber",
    "IrradiationEventUID", "IssuerOfAdmissionID", "IssuerOfPatientID", "IssuerOfServiceEpisodeID",
    "LargePaletteColorLookupTableUID", "LastMenstrualDate", "MAC", "MediaStorageSOPInstanceUID",
    "MedicalAlerts", "MedicalRecordLocator", "MilitaryRank", "ModifiedAttributesSequence",
    "ModifiedImageDescription", "ModifyingDeviceID", "ModifyingDeviceManufacturer",
    "NameOfPhysiciansReadingStudy", "NamesOfIntendedRecipientsOfResults", "Occupation",
    "OperatorIdentificationSequence", "OperatorsName", "OrderCallbackPhoneNumber",
    "OrderEnteredBy", "OrderEntererLocation", "OriginalAttributesSequence", "OtherPatientIDs",
    "OtherPatientIDsSequence", "OtherPatientNames", "OverlayComments", "OverlayDate",
    "OverlayTime", "PaletteColorLookupTableUID", "ParticipantSequence", "PatientAddress",
    "PatientAge", "PatientBirthDate", "PatientBirthName", "PatientBirthTime", "PatientComments",
    "PatientID", "PatientInstitutionResidence", "PatientInsurancePlanCodeSequence",
    "PatientMotherBirthName", "PatientName", "PatientPrimaryLanguageCodeSequence",
    "PatientPrimaryLanguageModifierCodeSequence", "PatientReligiousPreference", "PatientSex",
    "PatientSexNeutered", "PatientSize", "PatientState", "PatientTelecomInformation",
    "PatientTelephoneNumbers", "PatientTransportArrangements", "PatientWeight",
    "PerformedLocation", "PerformedProcedureStepDescription", "PerformedProcedureStepEndDate",
    "PerformedProcedureStepEndDateTime", "PerformedProcedureStepEndTime",
    "PerformedProcedureStepID", "PerformedProcedureStepStartDate",
    "PerformedProcedureStepStartDateTime", "PerformedProcedureStepStartTime",
    "PerformedStationAETitle", "PerformedStationGeographicLocationCodeSequence",
    "PerformedStationName", "PerformedStationNameCodeSequence",
    "PerformingPhysicianIdentificationSequence", "PerformingPhysicianName",
    "PersonAddress", "PersonIdentificationCodeSequence", "PersonName", "PersonTelephoneNumbers",
    "PhysicianApprovingInterpretation", "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence", "PhysiciansReadingStudyIdentificationSequence",
    "PlacerOrderNumberImagingServiceRequest", "PlateID", "PreMedication", "PregnancyStatus",
    "ProtocolName", "ReasonForTheImagingServiceRequest", "ReasonForStudy",
    "ReasonForTheRequestedProcedure", "ReasonForRequestedProcedureCodeSequence",
    "ReferencedDigitalSignatureSequence", "ReferencedFrameOfReferenceUID",
    "ReferencedGeneralPurposeScheduledProcedureStepTransactionUID", "ReferencedImageSequence",
    "ReferencedPatientAliasSequence", "ReferencedPatientPhotoSequence",
    "ReferencedPatientSequence", "ReferencedPerformedProcedureStepSequence",
    "ReferencedSOPInstanceMACSequence", "ReferencedSOPInstanceUID",
    "ReferencedStudySequence", "ReferringPhysicianAddress",
    "ReferringPhysicianIdentificationSequence", "ReferringPhysicianName",
    "ReferringPhysicianTelephoneNumbers", "RegionOfResidence", "RelatedFrameOfReferenceUID",
    "RequestAttributesSequence", "RequestedContrastAgent", "RequestedProcedureComments",
    "RequestedProcedureDescription", "RequestedProcedureID", "RequestedProcedureLocation",
    "RequestedSOPInstanceUID", "RequestingPhysician", "RequestingService",
    "RequestingServiceCodeSequence", "ResponsibleOrganization", "ResponsiblePerson",
    "ResultsComments", "ResultsDistributionListSequence", "ResultsIDIssuer",
    "ReviewerName", "ScheduledHumanPerformersSequence",
    "ScheduledPatientInstitutionResidence", "ScheduledPerformingPhysicianIdentificationSequence",
    "ScheduledPerformingPhysicianName", "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepEndDate", "ScheduledProcedureStepEndTime",
    "ScheduledProcedureStepLocation", "ScheduledProcedureStepStartDate",
    "ScheduledProcedureStepStartTime", "ScheduledStationAETitle",
    "ScheduledStationGeographicLocationCodeSequence", "ScheduledStationName",
    "ScheduledStationNameCodeSequence", "ScheduledStudyLocation",
    "ScheduledStudyLocationAETitle", "SeriesDate", "SeriesDescription", "SeriesInstanceUID",
    "SeriesTime", "ServiceEpisodeDescription", "ServiceEpisodeID", "SmokingStatus",
    "SOPInstanceUID", "SourceImageSequence", "SpecialNeeds", "StationName",
    "StorageMediaFileSetUID", "StudyComments", "StudyDate", "StudyDescription", "StudyID",
    "StudyIDIssuer", "StudyInstanceUID", "StudyTime", "SynchronizationFrameOfReferenceUID",
    "TemplateExtensionCreatorUID", "TemplateExtensionOrganizationUID", "TextComments",
    "TextString", "TimezoneOffsetFromUTC", "TopicAuthor", "TopicKeywords", "TopicSubject",
    "TopicTitle", "TransactionUID", "UID", "VerifyingObserverIdentificationCodeSequence",
    "VerifyingObserverName", "VerifyingObserverSequence", "VerifyingOrganization",
    "VisitComments",
)

READ_TAGS: tuple[str, ...] = (
    # grouping (hashed at once, never kept in clear; the patient ID only to warn about a
    # set that mixes patients)
    "StudyInstanceUID", "SeriesInstanceUID", "PatientID",
    # what the registry asks
    "Modality", "SliceThickness", "Manufacturer", "PatientAge", "PatientSex",
    # contrast: the agent text is only tested for presence, never kept
    "ContrastBolusAgent", "ContrastBolusRoute", "ContrastBolusVolume",
    "ContrastBolusIngredient", "ContrastBolusAgentSequence",
    # age fallback: birth date against the study date, in memory only
    "PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate",
    # what kind of object the file is (image, DICOMDIR, encapsulated mesh)
    "SOPClassUID", "MIMETypeOfEncapsulatedDocument",
)
"""Every attribute the DICOM connector parses; nothing else is read from a header."""

IDENTIFYING_VRS = frozenset({"PN", "DA", "DT", "TM", "UI", "AS"})
_NOT_IN_FILES = (0x0000, 0x0002, 0x7FE0)  # command set, file meta, pixel data
_TEXT_VRS = frozenset({"LO", "SH", "LT", "ST", "UT", "UC", "PN", "CS", "UR"})
_IDENTIFYING_WORDS = re.compile(
    r"(Name|Address|Telephone|Telecom|ID$|IDs$|Identification|Comments?$|Description$"
    r"|SerialNumber|Institution|Physician|Operator|Station|Birth|Date|Time$|UID|Location"
    r"|Occupation|Religious|Ethnic|Military|Insurance|Accession|Protocol)"
)


def annex_e_tags() -> dict[str, int]:
    """The Annex E basic-profile keywords pydicom knows, with their tags."""
    from pydicom.datadict import tag_for_keyword

    found: dict[str, int] = {}
    for keyword in ANNEX_E_BASIC:
        tag = tag_for_keyword(keyword)
        if tag is not None:
            found[keyword] = int(tag)
    return found


def identifying_keywords() -> dict[str, tuple[int, str]]:
    """Annex E widened by pydicom's dictionary: names, dates, times, UIDs, IDs, free text.

    Returns ``{keyword: (tag, VR)}`` for every non-sequence, non-binary attribute that is in
    Annex E or whose VR or keyword marks it as identifying. Tests plant tokens in all of them.
    """
    from pydicom._dicom_dict import DicomDictionary
    from pydicom.datadict import dictionary_VR

    annex = annex_e_tags()
    result: dict[str, tuple[int, str]] = {}
    for tag, entry in DicomDictionary.items():
        vr, keyword = entry[0], entry[4]
        retired = entry[3] == "Retired"
        if not keyword or vr in ("SQ", "NONE") or " or " in vr or tag >> 16 in _NOT_IN_FILES:
            continue
        if vr in ("OB", "OW", "OF", "OD", "OL", "OV", "UN", "AT"):
            continue
        by_vr = vr in IDENTIFYING_VRS
        by_name = vr in _TEXT_VRS and _IDENTIFYING_WORDS.search(keyword) is not None
        if keyword in annex or (not retired and (by_vr or by_name)):
            result[keyword] = (int(tag), dictionary_VR(tag))
    return result


# -- the per-home salt ----------------------------------------------------------------------

_PROCESS_SALT = secrets.token_bytes(SALT_BYTES)


def ephemeral_salt() -> bytes:
    """A salt that lives only in this process (``inspect`` without a home, tests)."""
    return _PROCESS_SALT


def home_salt(root: Path) -> bytes:
    """The home's secret salt, created on first use as a 0600 file beside the store."""
    path = root / SALT_NAME
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    try:
        private_dir(root)  # the home is owner-only
        fd, tmp = tempfile.mkstemp(prefix=".phi-salt-", dir=root)  # mkstemp makes it 0600
        try:
            os.write(fd, secrets.token_bytes(SALT_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic and never overwrites: a concurrent winner is kept
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
        return _read_salt(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the PHI salt ({exc.strerror})") from exc


def _read_salt(path: Path) -> bytes:
    data = path.read_bytes()
    if len(data) < 16:
        raise ConfigError(f"{path}: the PHI salt file is damaged (too short)")
    return data


def salted_hash(salt: bytes, value: str) -> str:
    """A keyed hash of an identifier (HMAC-SHA256, hex): groups without revealing it."""
    return hmac.new(salt, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


# -- derived values ---------------------------------------------------------------------------

MAX_REPORTED_AGE = 90
"""HIPAA safe harbour: every age above 89 is reported as 90."""

_AGE = re.compile(r"^\s*(\d{1,3})\s*([DWMY])\s*$")
_DAYS_PER_UNIT = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}


def cap_age(years: int | None) -> int | None:
    """``years`` with ages above 89 folded into 90."""
    if years is None or years < 0:
        return None
    return min(years, MAX_REPORTED_AGE)


def age_from_dicom(value: str | None) -> int | None:
    """Whole years from a DICOM AS value (``045Y``, ``018M``, ``003W``, ``010D``), capped."""
    if not value:
        return None
    match = _AGE.match(str(value))
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2)
    return cap_age(int(number * _DAYS_PER_UNIT[unit] // 365.25) if unit != "Y" else number)


def parse_da(value: str | None) -> date | None:
    """A DICOM DA value (``YYYYMMDD``, also the old ``YYYY.MM.DD``) as a date, or None."""
    if not value:
        return None
    digits = str(value).strip().replace(".", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def age_between(birth: date | None, on: date | None) -> int | None:
    """Completed years from ``birth`` to ``on``, capped at 90; None when unknown or negative."""
    if birth is None or on is None or on < birth:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return cap_age(years)


def sex_code(value: str | None) -> str | None:
    """DICOM PatientSex (M, F, O) as the registry's code; anything else unknown."""
    if not value:
        return None
    code = str(value).strip().upper()
    return code if code in ("M", "F", "O") else None


# -- egress checks ----------------------------------------------------------------------------


def egress_check(data: bytes | str, planted: Iterable[str]) -> list[str]:
    """The planted tokens found in ``data`` (UTF-8, UTF-16 and case-insensitive), sorted.

    Use it to assert that nothing identifying leaves: ``assert not egress_check(body, t)``.
    """
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else bytes(data)
    lowered = raw.lower()
    found: set[str] = set()
    for token in planted:
        needle = token.encode("utf-8").lower()
        if not needle:
            continue
        wide = token.encode("utf-16-le").lower()
        if needle in lowered or wide in lowered:
            found.add(token)
    return sorted(found)
