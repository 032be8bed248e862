"""The synthetic sprinter: exact kinematics, independent ground truth, and a renderer.

Every number the analyzer prints is tested against this: ``motion`` builds a physically
consistent 3D sprinter, ``truth`` computes what the analyzer should measure from it (with
code independent of the analyzer's), ``camera`` projects it, and ``render`` draws it to video.
"""
