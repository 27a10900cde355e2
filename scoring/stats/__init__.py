"""Pure statistics: agreement, Bradley-Terry, consensus. numpy/scipy/pandas only: no Flask, no
database. Inputs are array-likes and frames; outputs are numbers and small dataclasses."""
