"""Seed the chemical library with chemicals businesses commonly report.

The CCL IDs here (1, 2, 3...) are this library's own identifiers, not CalEPA's CERS Chemical
Library IDs: migration 0008 takes them away again (CCL IDs are CalEPA's alone). Codes follow the registry: physical state a Solid, b Liquid, c Gas (field 214);
type a Pure, b Mixture, c Waste (field 211). A substance sold as a water solution (acids,
bleach) is listed as Pure: water is not a hazardous component. EHS marks substances on the
federal Extremely Hazardous Substances list (40 CFR 355, Appendix A); hydrogen peroxide is
listed there only above 52%. The DOT hazard class is the primary class of the usual shipping
entry (49 CFR 172.101), left blank where the product is commonly not regulated or the class
depends on the product. Hazard classes and categories are left for the state administrator
to complete.

Reversing the migration deletes exactly these rows (by CCL ID).
"""

from django.db import migrations

PURE, MIXTURE, WASTE = "a", "b", "c"
SOLID, LIQUID, GAS = "a", "b", "c"

# (CCL ID, CAS number, chemical name, common name, synonyms, EHS, state, type, DOT class)
CHEMICALS = [
    (1, "86290-81-5", "Gasoline", "Gasoline", ["Petrol", "Motor fuel", "Unleaded gasoline"], False, LIQUID, MIXTURE, "3"),
    (2, "68476-34-6", "Fuels, diesel, No. 2", "Diesel fuel", ["Diesel", "Diesel oil", "Fuel oil No. 2"], False, LIQUID, MIXTURE, "3"),
    (3, "", "Motor oil", "Motor oil", ["Engine oil", "Lubricating oil", "Crankcase oil"], False, LIQUID, MIXTURE, ""),
    (4, "", "Used oil", "Used oil", ["Waste oil", "Used motor oil"], False, LIQUID, WASTE, ""),
    (5, "", "Hydraulic oil", "Hydraulic oil", ["Hydraulic fluid"], False, LIQUID, MIXTURE, ""),
    (6, "74-98-6", "Propane", "Propane", ["Dimethylmethane", "Propane gas"], False, GAS, PURE, "2.1"),
    (7, "74-86-2", "Acetylene", "Acetylene", ["Ethyne", "Ethine"], False, GAS, PURE, "2.1"),
    (8, "7782-44-7", "Oxygen", "Oxygen", ["Oxygen, compressed", "Liquid oxygen", "LOX"], False, GAS, PURE, "2.2"),
    (9, "7727-37-9", "Nitrogen", "Nitrogen", ["Nitrogen, compressed", "Liquid nitrogen"], False, GAS, PURE, "2.2"),
    (10, "124-38-9", "Carbon dioxide", "Carbon dioxide", ["CO2", "Carbonic anhydride"], False, GAS, PURE, "2.2"),
    (11, "7440-37-1", "Argon", "Argon", ["Argon, compressed", "Liquid argon"], False, GAS, PURE, "2.2"),
    (12, "7440-59-7", "Helium", "Helium", ["Helium, compressed"], False, GAS, PURE, "2.2"),
    (13, "1333-74-0", "Hydrogen", "Hydrogen", ["Hydrogen, compressed", "H2"], False, GAS, PURE, "2.1"),
    (14, "7782-50-5", "Chlorine", "Chlorine", ["Chlorine gas", "Cl2"], True, GAS, PURE, "2.3"),
    (15, "7664-41-7", "Ammonia", "Anhydrous ammonia", ["Ammonia, anhydrous", "NH3"], True, GAS, PURE, "2.2"),
    (16, "7664-93-9", "Sulfuric acid", "Battery acid", ["Battery acid", "Battery electrolyte", "Oil of vitriol", "Sulphuric acid"], True, LIQUID, PURE, "8"),
    (17, "7647-01-0", "Hydrochloric acid", "Muriatic acid", ["Muriatic acid", "Hydrogen chloride, aqueous"], False, LIQUID, PURE, "8"),
    (18, "1310-73-2", "Sodium hydroxide", "Caustic soda", ["Caustic soda", "Lye", "Sodium hydrate"], False, SOLID, PURE, "8"),
    (19, "7681-52-9", "Sodium hypochlorite", "Bleach", ["Bleach", "Hypochlorite solution", "Liquid chlorine (pool)"], False, LIQUID, PURE, "8"),
    (20, "7697-37-2", "Nitric acid", "Nitric acid", ["Aqua fortis"], True, LIQUID, PURE, "8"),
    (21, "7664-38-2", "Phosphoric acid", "Phosphoric acid", ["Orthophosphoric acid"], False, LIQUID, PURE, "8"),
    (22, "7722-84-1", "Hydrogen peroxide (more than 52%)", "Hydrogen peroxide, concentrated", ["Hydrogen peroxide", "Peroxide"], True, LIQUID, PURE, "5.1"),
    (23, "7778-54-3", "Calcium hypochlorite", "Pool shock", ["Pool chlorine, granular", "HTH"], False, SOLID, PURE, "5.1"),
    (24, "127-18-4", "Tetrachloroethylene", "Perchloroethylene", ["Perchloroethylene", "PERC", "PCE", "Tetrachloroethene"], False, LIQUID, PURE, "6.1"),
    (25, "107-21-1", "Ethylene glycol", "Antifreeze", ["Antifreeze", "Monoethylene glycol", "1,2-Ethanediol"], False, LIQUID, PURE, ""),
    (26, "67-56-1", "Methanol", "Methyl alcohol", ["Methyl alcohol", "Wood alcohol"], False, LIQUID, PURE, "3"),
    (27, "67-63-0", "Isopropyl alcohol", "Isopropanol", ["Isopropanol", "2-Propanol", "Rubbing alcohol", "IPA"], False, LIQUID, PURE, "3"),
    (28, "67-64-1", "Acetone", "Acetone", ["2-Propanone", "Dimethyl ketone"], False, LIQUID, PURE, "3"),
    (29, "108-88-3", "Toluene", "Toluene", ["Methylbenzene", "Toluol"], False, LIQUID, PURE, "3"),
    (30, "1330-20-7", "Xylene", "Xylene", ["Xylenes (mixed isomers)", "Xylol", "Dimethylbenzene"], False, LIQUID, PURE, "3"),
    (31, "7439-92-1", "Lead", "Lead (lead-acid batteries)", ["Battery lead", "Lead-acid battery plates"], False, SOLID, PURE, ""),
    (32, "", "Paint, solvent-based", "Paint", ["Oil-based paint", "Enamel", "Lacquer"], False, LIQUID, MIXTURE, "3"),
    (33, "8008-20-6", "Kerosene", "Kerosene", ["Kerosine", "Fuel oil No. 1", "Range oil"], False, LIQUID, MIXTURE, "3"),
    (34, "8006-14-2", "Natural gas", "Compressed natural gas", ["CNG", "Compressed natural gas", "Methane"], False, GAS, MIXTURE, "2.1"),
    (35, "68476-85-7", "Petroleum gases, liquefied", "Liquefied petroleum gas", ["LPG", "LP gas"], False, GAS, MIXTURE, "2.1"),
    (36, "7446-09-5", "Sulfur dioxide", "Sulfur dioxide", ["Sulfurous anhydride", "Sulphur dioxide", "SO2"], True, GAS, PURE, "2.3"),
    (37, "10049-04-4", "Chlorine dioxide", "Chlorine dioxide", ["Chlorine(IV) oxide", "ClO2"], False, GAS, PURE, ""),
    (38, "7664-39-3", "Hydrofluoric acid", "Hydrofluoric acid", ["Hydrogen fluoride, aqueous"], True, LIQUID, PURE, "8"),
    (39, "50-00-0", "Formaldehyde", "Formalin", ["Formalin", "Formaldehyde solution", "Methanal"], True, LIQUID, PURE, "8"),
    (40, "7783-06-4", "Hydrogen sulfide", "Hydrogen sulfide", ["Sulfureted hydrogen", "H2S"], True, GAS, PURE, "2.3"),
    (41, "64-17-5", "Ethanol", "Ethyl alcohol", ["Ethyl alcohol", "Denatured alcohol", "Grain alcohol"], False, LIQUID, PURE, "3"),
    (42, "8052-41-3", "Stoddard solvent", "Mineral spirits", ["Mineral spirits", "White spirit", "Paint thinner"], False, LIQUID, MIXTURE, "3"),
    (43, "1310-58-3", "Potassium hydroxide", "Caustic potash", ["Caustic potash", "Potassium hydrate"], False, SOLID, PURE, "8"),
    (44, "10024-97-2", "Nitrous oxide", "Nitrous oxide", ["Laughing gas", "Dinitrogen oxide"], False, GAS, PURE, "2.2"),
]

CCL_IDS = [row[0] for row in CHEMICALS]


def seed(apps, schema_editor):
    Chemical = apps.get_model("libraries", "Chemical")
    Chemical.objects.bulk_create(
        Chemical(
            ccl_id=ccl_id,
            cas_number=cas,
            chemical_name=name,
            common_name=common,
            synonyms="\n".join(synonyms),
            ehs=ehs,
            physical_state=state,
            hm_type=hm_type,
            dot_hazard_class=dot,
        )
        for ccl_id, cas, name, common, synonyms, ehs, state, hm_type, dot in CHEMICALS
    )


def unseed(apps, schema_editor):
    Chemical = apps.get_model("libraries", "Chemical")
    Chemical.objects.filter(ccl_id__in=CCL_IDS).delete()


class Migration(migrations.Migration):
    dependencies = [("libraries", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
