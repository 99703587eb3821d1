; KISSlicer - PRO
; version 2.0.7
; Built: Jan 10 2024, 10:00:00
;
; [Printer Settings]
; printer_name = Prusa MK3S
; bed_size_x_mm = 250
; [Style Settings]
; max_layer_thickness_mm = 0.2
; first_layer_thickness_mm = 0.3
; [Material Settings for Ext #1]
; material_name = PLA
; fiber_dia_mm = 1.75
G28
G1 Z0.3 F720
G1 X100 Y100 E1.2 F1200
; END_LAYER_OBJECT z=6.000
;
; Estimated Build Time:   22.50 minutes
; Estimated Build Volume:  2.43 cm^3
; Filament used per extruder:
;    Ext #1 = 1011.52 mm  (2.43 cm^3)
