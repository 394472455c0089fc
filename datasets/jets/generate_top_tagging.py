"""Recipe for the small top-tagging fixture: hadronic top jets vs QCD jets.

Follows the public top-tagging reference set (Kasieczka et al., SciPost Phys.
7, 014 (2019)) at generator level: 14 TeV pp collisions from Pythia 8
(``pythia8mc``), all visible final-state particles clustered with FastJet
(``fastjet``) into anti-kT jets of R = 0.8, keeping jets with
550 < pT < 650 GeV and |eta| < 2. Signal: ttbar with both W bosons decaying
to quarks; a jet is a top jet if a top quark and its three decay quarks lie
within dR < 0.8 of the jet axis. Background: QCD 2 -> 2 (HardQCD:all), the
leading jet per event. Unlike the reference set there is no Delphes detector
simulation (none is installable here): constituents are stable particles.

Needs the ``hep`` extra (Pythia 8 compiles from source for many minutes):

    pip install -e ".[hep]"
    python datasets/jets/generate_top_tagging.py --n-jets 4000 --seed 1

Writes ``top_tagging_small.npz`` (float16 constituents (pt, eta, phi, E) of
the 60 hardest particles, zero-padded; per-jet float32 (pt, eta, phi, m);
int8 labels 1 = top, 0 = QCD) and prints its SHA-256 for the README.
"""
from __future__ import annotations

import argparse
import hashlib
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
NEUTRINOS = {12, 14, 16}


def make_pythia(signal: bool, seed: int):
    import pythia8mc

    p = pythia8mc.Pythia("", False)
    settings = ["Beams:eCM = 14000.", "PhaseSpace:pTHatMin = 500.",
                "PhaseSpace:pTHatMax = 700.", "Random:setSeed = on", f"Random:seed = {seed}",
                "Next:numberCount = 0", "Print:quiet = on"]
    if signal:
        settings += ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on",
                     "24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
    else:
        settings += ["HardQCD:all = on"]
    for s in settings:
        p.readString(s)
    p.init()
    return p


def delta_r(eta1: float, phi1: float, eta2: float, phi2: float) -> float:
    dphi = (phi1 - phi2 + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(eta1 - eta2, dphi)


def hadronic_tops(event) -> list[list[tuple[float, float]]]:
    """(eta, phi) of each top and of its b and W-daughter quarks."""
    out = []
    for i in range(event.size()):
        prt = event[i]
        if abs(prt.id()) != 6 or abs(event[prt.daughter1()].id()) == 6:
            continue  # not the last top copy
        quarks = []
        for d in (prt.daughter1(), prt.daughter2()):
            q = event[d]
            while abs(q.id()) == 24 and abs(event[q.daughter1()].id()) == 24:
                q = event[q.daughter1()]  # follow the W to its decay
            if abs(q.id()) == 24:
                quarks += [event[q.daughter1()], event[q.daughter2()]]
            elif abs(q.id()) == 5:
                quarks.append(q)
        if len(quarks) == 3 and all(abs(q.id()) <= 5 for q in quarks):
            out.append([(prt.eta(), prt.phi())] + [(q.eta(), q.phi()) for q in quarks])
    return out


def jets_of(event, jetdef, fastjet):
    parts = [fastjet.PseudoJet(q.px(), q.py(), q.pz(), q.e()) for q in
             (event[i] for i in range(event.size()))
             if q.isFinal() and abs(q.id()) not in NEUTRINOS]
    cs = fastjet.ClusterSequence(parts, jetdef)
    jets = fastjet.sorted_by_pt(cs.inclusive_jets(400.0))
    return [j for j in jets if 550.0 < j.pt() < 650.0 and abs(j.eta()) < 2.0], cs


def encode(jet, max_constituents: int) -> tuple[np.ndarray, np.ndarray]:
    cons = sorted(jet.constituents(), key=lambda c: -c.pt())[:max_constituents]
    arr = np.zeros((max_constituents, 4), np.float32)
    for k, c in enumerate(cons):
        arr[k] = (c.pt(), c.eta(), c.phi_std(), c.e())
    return arr, np.array([jet.pt(), jet.eta(), jet.phi_std(), jet.m()], np.float32)


def generate(n_per_class: int, seed: int, max_constituents: int):
    import fastjet

    jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, 0.8)
    cons, kin, labels = [], [], []
    for label in (1, 0):
        pythia = make_pythia(signal=bool(label), seed=seed + label)
        found = 0
        while found < n_per_class:
            if not pythia.next():
                continue
            jets, _cs = jets_of(pythia.event, jetdef, fastjet)
            if not jets:
                continue
            if label:
                tops = hadronic_tops(pythia.event)
                for jet in jets:
                    if any(all(delta_r(jet.eta(), jet.phi_std(), e, p) < 0.8 for e, p in t)
                           for t in tops):
                        c, k = encode(jet, max_constituents)
                        cons.append(c), kin.append(k), labels.append(1)
                        found += 1
                        break
            else:
                c, k = encode(jets[0], max_constituents)
                cons.append(c), kin.append(k), labels.append(0)
                found += 1
    return np.stack(cons), np.stack(kin), np.array(labels, np.int8)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-jets", type=int, default=4000, help="jets per class")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-constituents", type=int, default=60)
    ap.add_argument("--out", default=str(HERE / "top_tagging_small.npz"))
    args = ap.parse_args()
    cons, kin, labels = generate(args.n_jets, args.seed, args.max_constituents)
    order = np.random.default_rng(args.seed).permutation(len(labels))
    np.savez_compressed(args.out, constituents=cons[order].astype(np.float16),
                        jets=kin[order], labels=labels[order])
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(f"wrote {args.out}: {len(labels)} jets, sha256 {digest}")


if __name__ == "__main__":
    main()
