M109 T0 S210.000000
T0
;Sliced at: Mon 12-08-2024 09:14:02
;Basic settings: Layer height: 0.1 Walls: 0.8 Fill: 20
;Print time: #P_TIME#
;Filament used: #F_AMNT#m #F_WGHT#g
;Filament cost: #F_COST#
G21        ;metric values
G90        ;absolute positioning
G28 X0 Y0  ;move X/Y to min endstops
;Layer count: 60
;LAYER:0
G1 F1200 X59.86 Y69.24 E0.02284
;End GCode
