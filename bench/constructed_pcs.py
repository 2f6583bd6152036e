"""A CONSTRUCTED ICD-10-PCS order file of full size, for benchmarks: never CMS data.

The shared data holds only the first lines of the real order file, and search
speed depends on the size of what is searched, so the search benchmark writes
a file of about 78,000 codes in the exact order-file layout (order number,
code, header flag, 60-character short title, long title). The codes are
made-up combinations of real ICD-10-PCS axis values (body systems, root
operations, body parts, approaches, devices, qualifiers), so their
descriptions read like the real ones; none is claimed to exist.

usage: .venv/bin/python bench/constructed_pcs.py OUT.txt [--codes 78000]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

# Characters of the code axes: 0-9 and A-Z without I and O.
AXIS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
SIDED = ("Right", "Left")

SYSTEMS = {
    "0": (
        "Central Nervous System and Cranial Nerves",
        "Brain, Cerebral Meninges, Dura Mater, "
        "Epidural Space, Subdural Space, Cerebral Ventricle, Cerebral Hemisphere, Basal "
        "Ganglia, Thalamus, Hypothalamus, Pons, Cerebellum, Medulla Oblongata, Olfactory "
        "Nerve, Optic Nerve, Oculomotor Nerve, Trigeminal Nerve, Facial Nerve, Vagus Nerve, "
        "Spinal Canal, Cervical Spinal Cord, Thoracic Spinal Cord, Lumbar Spinal Cord",
        False,
    ),
    "1": (
        "Peripheral Nervous System",
        "Cervical Plexus, Cervical Nerve, Phrenic Nerve, "
        "Brachial Plexus, Ulnar Nerve, Median Nerve, Radial Nerve, Thoracic Nerve, Lumbar "
        "Plexus, Femoral Nerve, Sciatic Nerve, Tibial Nerve, Peroneal Nerve, Pudendal Nerve",
        False,
    ),
    "2": (
        "Heart and Great Vessels",
        "Coronary Artery, One Artery, Coronary Artery, Two "
        "Arteries, Atrial Septum, Ventricular Septum, Aortic Valve, Mitral Valve, Pulmonary "
        "Valve, Tricuspid Valve, Pericardium, Thoracic Aorta, Descending, Pulmonary Trunk, "
        "Superior Vena Cava, Conduction Mechanism, Chordae Tendineae, Papillary Muscle",
        False,
    ),
    "3": (
        "Upper Arteries",
        "Internal Mammary Artery, Innominate Artery, Subclavian Artery, "
        "Axillary Artery, Brachial Artery, Ulnar Artery, Radial Artery, Hand Artery, Common "
        "Carotid Artery, Internal Carotid Artery, External Carotid Artery, Vertebral Artery",
        True,
    ),
    "4": (
        "Lower Arteries",
        "Abdominal Aorta, Celiac Artery, Gastric Artery, Hepatic Artery, "
        "Splenic Artery, Superior Mesenteric Artery, Renal Artery, Common Iliac Artery, "
        "External Iliac Artery, Femoral Artery, Popliteal Artery, Anterior Tibial Artery, "
        "Posterior Tibial Artery, Peroneal Artery, Foot Artery",
        True,
    ),
    "5": (
        "Upper Veins",
        "Azygos Vein, Hemiazygos Vein, Innominate Vein, Subclavian Vein, "
        "Axillary Vein, Brachial Vein, Basilic Vein, Cephalic Vein, Hand Vein, Intracranial "
        "Vein, Internal Jugular Vein, External Jugular Vein, Vertebral Vein, Face Vein",
        True,
    ),
    "6": (
        "Lower Veins",
        "Inferior Vena Cava, Splenic Vein, Gastric Vein, Esophageal Vein, "
        "Hepatic Vein, Portal Vein, Renal Vein, Common Iliac Vein, External Iliac Vein, "
        "Femoral Vein, Saphenous Vein, Foot Vein",
        True,
    ),
    "7": (
        "Lymphatic and Hemic Systems",
        "Head Lymphatic, Neck Lymphatic, Axillary "
        "Lymphatic, Thorax Lymphatic, Internal Mammary Lymphatic, Mesenteric Lymphatic, "
        "Pelvis Lymphatic, Aortic Lymphatic, Inguinal Lymphatic, Thoracic Duct, Cisterna "
        "Chyli, Thymus, Spleen, Bone Marrow",
        False,
    ),
    "8": (
        "Eye",
        "Eye, Anterior Chamber, Vitreous, Sclera, Cornea, Choroid, Iris, Retina, "
        "Retinal Vessel, Lens, Upper Eyelid, Lower Eyelid, Conjunctiva, Extraocular Muscle, "
        "Lacrimal Gland, Lacrimal Duct",
        True,
    ),
    "9": (
        "Ear, Nose, Sinus",
        "External Ear, External Auditory Canal, Tympanic Membrane, "
        "Middle Ear, Auditory Ossicle, Mastoid Sinus, Inner Ear, Eustachian Tube, Nasal "
        "Mucosa and Soft Tissue, Nasal Septum, Nasal Turbinate, Maxillary Sinus, Frontal "
        "Sinus, Ethmoid Sinus, Sphenoid Sinus, Accessory Sinus",
        True,
    ),
    "B": (
        "Respiratory System",
        "Trachea, Carina, Main Bronchus, Upper Lobe Bronchus, Middle "
        "Lobe Bronchus, Lower Lobe Bronchus, Upper Lung Lobe, Lower Lung Lobe, Lung Lingula, "
        "Lung, Pleura, Diaphragm",
        True,
    ),
    "C": (
        "Mouth and Throat",
        "Upper Lip, Lower Lip, Hard Palate, Soft Palate, Buccal "
        "Mucosa, Upper Gingiva, Lower Gingiva, Tongue, Parotid Gland, Submaxillary Gland, "
        "Sublingual Gland, Minor Salivary Gland, Pharynx, Uvula, Tonsils, Adenoids, Epiglottis, "
        "Larynx, Vocal Cord, Upper Tooth, Lower Tooth",
        False,
    ),
    "D": (
        "Gastrointestinal System",
        "Esophagus, Upper Esophagus, Lower Esophagus, "
        "Esophagogastric Junction, Stomach, Pylorus, Duodenum, Jejunum, Ileum, Ileocecal "
        "Valve, Cecum, Appendix, Ascending Colon, Transverse Colon, Descending Colon, Sigmoid "
        "Colon, Rectum, Anus, Anal Sphincter, Omentum, Mesentery, Peritoneum, Large "
        "Intestine, Small Intestine",
        False,
    ),
    "F": (
        "Hepatobiliary System and Pancreas",
        "Liver, Right Lobe Liver, Left Lobe Liver, "
        "Gallbladder, Hepatic Duct, Cystic Duct, Common Bile Duct, Ampulla of Vater, "
        "Pancreatic Duct, Accessory Pancreatic Duct, Pancreas",
        False,
    ),
    "G": (
        "Endocrine System",
        "Pituitary Gland, Pineal Body, Adrenal Gland, Carotid Body, "
        "Para-aortic Body, Coccygeal Glomus, Glomus Jugulare, Aortic Body, Thyroid Gland "
        "Lobe, Thyroid Gland Isthmus, Superior Parathyroid Gland, Inferior Parathyroid Gland",
        True,
    ),
    "H": (
        "Skin and Breast",
        "Scalp Skin, Face Skin, Ear Skin, Neck Skin, Chest Skin, Back "
        "Skin, Abdomen Skin, Buttock Skin, Perineum Skin, Upper Arm Skin, Lower Arm Skin, "
        "Hand Skin, Upper Leg Skin, Lower Leg Skin, Foot Skin, Breast, Nipple, Finger Nail, "
        "Toe Nail",
        True,
    ),
    "J": (
        "Subcutaneous Tissue and Fascia",
        "Scalp Subcutaneous Tissue and Fascia, Face "
        "Subcutaneous Tissue and Fascia, Neck Subcutaneous Tissue and Fascia, Chest "
        "Subcutaneous Tissue and Fascia, Back Subcutaneous Tissue and Fascia, Abdomen "
        "Subcutaneous Tissue and Fascia, Buttock Subcutaneous Tissue and Fascia, Perineum "
        "Subcutaneous Tissue and Fascia, Hand Subcutaneous Tissue and Fascia, Foot "
        "Subcutaneous Tissue and Fascia",
        True,
    ),
    "K": (
        "Muscles",
        "Head Muscle, Facial Muscle, Neck Muscle, Tongue, Palate, Pharynx "
        "Muscle, Shoulder Muscle, Upper Arm Muscle, Lower Arm and Wrist Muscle, Hand Muscle, "
        "Trunk Muscle, Thorax Muscle, Abdomen Muscle, Perineum Muscle, Hip Muscle, Upper "
        "Leg Muscle, Lower Leg Muscle, Foot Muscle",
        True,
    ),
    "L": (
        "Tendons",
        "Head and Neck Tendon, Shoulder Tendon, Upper Arm Tendon, Lower Arm and "
        "Wrist Tendon, Hand Tendon, Trunk Tendon, Thorax Tendon, Abdomen Tendon, Perineum "
        "Tendon, Hip Tendon, Upper Leg Tendon, Lower Leg Tendon, Knee Tendon, Ankle Tendon, "
        "Foot Tendon",
        True,
    ),
    "M": (
        "Bursae and Ligaments",
        "Head and Neck Bursa and Ligament, Shoulder Bursa and "
        "Ligament, Elbow Bursa and Ligament, Wrist Bursa and Ligament, Hand Bursa and "
        "Ligament, Hip Bursa and Ligament, Knee Bursa and Ligament, Ankle Bursa and "
        "Ligament, Foot Bursa and Ligament",
        True,
    ),
    "N": (
        "Head and Facial Bones",
        "Skull, Frontal Bone, Parietal Bone, Temporal Bone, "
        "Occipital Bone, Nasal Bone, Sphenoid Bone, Ethmoid Bone, Lacrimal Bone, Palatine "
        "Bone, Zygomatic Bone, Orbit, Maxilla, Mandible, Hyoid Bone",
        True,
    ),
    "P": (
        "Upper Bones",
        "Sternum, Ribs, 1 to 2, Ribs, 3 or More, Cervical Vertebra, "
        "Thoracic Vertebra, Scapula, Glenoid Cavity, Clavicle, Humeral Head, Humeral Shaft, "
        "Radius, Ulna, Carpal, Metacarpal, Thumb Phalanx, Finger Phalanx",
        True,
    ),
    "Q": (
        "Lower Bones",
        "Lumbar Vertebra, Sacrum, Pelvic Bone, Acetabulum, Upper Femur, "
        "Femoral Shaft, Lower Femur, Patella, Tibia, Fibula, Tarsal, Metatarsal, Toe "
        "Phalanx, Coccyx",
        True,
    ),
    "R": (
        "Upper Joints",
        "Occipital-cervical Joint, Cervical Vertebral Joint, Cervical "
        "Vertebral Disc, Thoracic Vertebral Joint, Temporomandibular Joint, "
        "Sternoclavicular Joint, Acromioclavicular Joint, Shoulder Joint, Elbow Joint, "
        "Wrist Joint, Carpal Joint, Metacarpophalangeal Joint, Finger Phalangeal Joint",
        True,
    ),
    "S": (
        "Lower Joints",
        "Lumbar Vertebral Joint, Lumbosacral Joint, Sacrococcygeal Joint, "
        "Sacroiliac Joint, Hip Joint, Knee Joint, Ankle Joint, Tarsal Joint, "
        "Tarsometatarsal Joint, Metatarsal-Phalangeal Joint, Toe Phalangeal Joint",
        True,
    ),
    "T": ("Urinary System", "Kidney, Kidney Pelvis, Ureter, Bladder, Bladder Neck, Urethra", True),
    "U": (
        "Female Reproductive System",
        "Ovary, Fallopian Tube, Uterus, Endometrium, "
        "Cervix, Cul-de-sac, Vagina, Hymen, Vestibular Gland, Clitoris, Vulva",
        False,
    ),
    "V": (
        "Male Reproductive System",
        "Prostate, Seminal Vesicle, Tunica Vaginalis, "
        "Scrotum, Testis, Spermatic Cord, Epididymis, Vas Deferens, Penis, Prepuce",
        False,
    ),
    "W": (
        "Anatomical Regions, General",
        "Head, Cranial Cavity, Face, Upper Jaw, Lower Jaw, "
        "Neck, Chest Wall, Pleural Cavity, Mediastinum, Pericardial Cavity, Abdominal Wall, "
        "Upper Back, Lower Back, Peritoneal Cavity, Retroperitoneum, Pelvic Cavity, "
        "Perineum",
        False,
    ),
    "X": (
        "Anatomical Regions, Upper Extremities",
        "Forequarter, Shoulder Region, Axilla, "
        "Upper Extremity, Upper Arm, Elbow Region, Lower Arm, Wrist Region, Hand, Thumb, "
        "Index Finger, Middle Finger, Ring Finger, Little Finger",
        True,
    ),
    "Y": (
        "Anatomical Regions, Lower Extremities",
        "Buttock, Inguinal Region, Femoral "
        "Region, Hindquarter, Lower Extremity, Upper Leg, Knee Region, Lower Leg, Ankle "
        "Region, Foot, 1st Toe, 2nd Toe, 3rd Toe, 4th Toe, 5th Toe",
        True,
    ),
}
OPERATIONS = {
    "0": "Alteration",
    "1": "Bypass",
    "2": "Change",
    "5": "Destruction",
    "6": "Detachment",
    "7": "Dilation",
    "8": "Division",
    "9": "Drainage",
    "B": "Excision",
    "C": "Extirpation",
    "D": "Extraction",
    "F": "Fragmentation",
    "G": "Fusion",
    "H": "Insertion",
    "J": "Inspection",
    "K": "Map",
    "L": "Occlusion",
    "M": "Reattachment",
    "N": "Release",
    "P": "Removal",
    "Q": "Repair",
    "R": "Replacement",
    "S": "Reposition",
    "T": "Resection",
    "U": "Supplement",
    "V": "Restriction",
    "W": "Revision",
    "X": "Transfer",
    "Y": "Transplantation",
}
APPROACHES = {
    "0": "Open Approach",
    "3": "Percutaneous Approach",
    "4": "Percutaneous Endoscopic Approach",
    "7": "Via Natural or Artificial Opening",
    "8": "Via Natural or Artificial Opening Endoscopic",
    "X": "External Approach",
}
DEVICES = {
    "Z": None,
    "0": "Drainage Device",
    "2": "Monitoring Device",
    "3": "Infusion Device",
    "4": "Internal Fixation Device",
    "5": "External Fixation Device",
    "7": "Autologous Tissue Substitute",
    "D": "Intraluminal Device",
    "J": "Synthetic Substitute",
    "K": "Nonautologous Tissue Substitute",
    "M": "Neurostimulator Lead",
    "Y": "Other Device",
}
QUALIFIERS = {
    "Z": None,
    "X": "Diagnostic",
    "0": "Allogeneic",
    "1": "Syngeneic",
    "2": "Zooplastic",
    "3": "Laser Interstitial Thermal Therapy",
    "6": "Stereotactic",
}
SHORTER = (
    ("Right ", "R "),
    ("Left ", "L "),
    ("Percutaneous", "Perc"),
    ("Endoscopic", "Endo"),
    ("Via Natural or Artificial Opening", "Via Opening"),
    ("Substitute", "Sub"),
    ("Device", "Dev"),
    ("Diagnostic", "Diagn"),
    (" Approach", ""),
    ("Subcutaneous", "Subcu"),
    ("Tissue", "Tiss"),
    (" and ", " & "),
    ("Autologous", "Autol"),
    (" with ", " w "),
)


def _parts(system: str) -> list[str]:
    """The body parts of ``system``, each on both sides where the system has sides."""
    _, names, sided = SYSTEMS[system]
    parts = [n.strip() for n in names.split(", ")]
    if sided:
        parts = [f"{side} {part}" for part in parts for side in SIDED]
    return parts[: len(AXIS)]


def _long(
    operation: str, part: str, approach: str, device: str | None, qualifier: str | None
) -> str:
    text = f"{operation} of {part}"
    if device:
        text += f" with {device}"
    text += f", {approach}"
    return f"{text}, {qualifier}" if qualifier else text


def _short(long: str) -> str:
    for word, abbreviation in SHORTER:
        long = long.replace(word, abbreviation)
    return long[:60]


def lines(codes: int, seed: int = 2026) -> list[str]:
    """The order file's lines: each table header, then ``codes`` valid codes under them,
    spread evenly over every (body system, operation, body part)."""
    chooser = random.Random(seed)
    triples = [
        (system, operation, part)
        for system in SYSTEMS
        for operation in OPERATIONS
        for part in range(len(_parts(system)))
    ]
    endings = [
        (approach, device, qualifier)
        for approach in APPROACHES
        for device in DEVICES
        for qualifier in QUALIFIERS
    ]
    each, extra = divmod(codes, len(triples))
    rows: list[str] = []
    tables: set[str] = set()
    for index, (system, operation, part) in enumerate(triples):
        table = f"0{system}{operation}"
        if table not in tables:
            tables.add(table)
            title = f"{SYSTEMS[system][0]}, {OPERATIONS[operation]}"
            rows.append(f"{table:<7} 0 {_short(title):<60} {title}")
        count = each + (index < extra)
        for approach, device, qualifier in sorted(chooser.sample(endings, count)):
            long = _long(
                OPERATIONS[operation],
                _parts(system)[part],
                APPROACHES[approach],
                DEVICES[device],
                QUALIFIERS[qualifier],
            )
            code = f"{table}{AXIS[part]}{approach}{device}{qualifier}"
            rows.append(f"{code:<7} 1 {_short(long):<60} {long}")
    return [f"{order:05d} {row}" for order, row in enumerate(rows, start=1)]


def write(path: Path, codes: int = 78_000) -> Path:
    """Write the constructed order file (CRLF, as CMS ships it) to ``path``."""
    path.write_bytes(("\r\n".join(lines(codes)) + "\r\n").encode("latin-1"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--codes", type=int, default=78_000)
    args = parser.parse_args()
    write(args.out, args.codes)


if __name__ == "__main__":
    main()
