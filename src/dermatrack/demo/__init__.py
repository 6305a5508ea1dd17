"""The demo clinic: a synthetic cohort recorded, photographed, measured and reported.

* :mod:`.design`: who the synthetic patients are and the treatment effects simulated;
* :mod:`.images`: their photographs (phantoms, and real sample faces with drawn features);
* :mod:`.devices`: their profilometry, colorimetry and suction-device recordings;
* :mod:`.readings`: a visit's device readings simulated and measured, and their MDC95;
* :mod:`.instruments`: the spectral and elastography series of some patients;
* :mod:`.records`: each patient recorded through the services, the demo web accounts;
* :mod:`.repeatability`: the MDC95 of photo metrics (phantom captures) and devices;
* :mod:`.photos`: photographs rendered and analysed in the workers, stored here;
* :mod:`.summary`: the reports and the true-versus-estimated check;
* :mod:`.workers`: the worker processes' jobs and pool;
* :mod:`.scale`: the demo without photographs, at research scale;
* :mod:`.build`: :func:`~.build.build_demo`, which puts these together.

Every datum is synthetic; the demo says so wherever it shows them.
"""
