"""The demo clinic: a synthetic cohort recorded, photographed, measured and reported.

* :mod:`.design`: who the synthetic patients are and the treatment effects simulated;
* :mod:`.images`: their photographs (phantoms, and real sample faces with drawn features);
* :mod:`.devices`: their profilometry, colorimetry and suction-device recordings;
* :mod:`.build`: :func:`~.build.build_demo`, which records everything through the
  services, analyses the photographs in parallel and writes the reports.

Every datum is synthetic; the demo says so wherever it shows them.
"""
