; KISSlicer - FREE
; Linux
; version 2 a 2.0.6 Linux64
; Built: Jul 22 2020, 08:28:07
; Running on 4 cores
;
; Saved: 2025-03-11 10:02:44
; 'kiss2_single.gcode'
;
; Anti-shrink gain x=1.000000, y=1.000000, z=1.000000
;
; *** Printer Settings ***
;
; printer_name = Lab FFF
; extension = gcode
; num_extruders = 1
; ext_1_mat_name = PETG
; model_ext = 0
; support_ext = 0
;
; *** Material Settings for Extruder 1 ***
;
; material_name = PETG
; temperature_C = 240
; fiber_dia_mm = 1.75
;
; *** Style Settings ***
;
; style_name = Standard
; layer_thickness_mm = 0.25
; max_layer_thickness_mm = 0
; first_layer_thickness_mm = 0
;
; *** Actual Slicing Settings As Used ***
;
; layer_thickness_mm = 0.25
; max_layer_thickness_mm = 0
;
; *** G-code Prefix ***
;
G21
G90
M82
G28
;
; *** Main G-code ***
;
G92 E0
; BEGIN_LAYER_OBJECT z=0.250 z_thickness=0.250
T0
G1 X100 Y100 Z0.25 E1.2 F1200
; END_LAYER_OBJECT z=0.250
;
; *** G-code Postfix ***
;
M140 S0
;
; Calculated-during-export Build Time: 31.40 minutes
; Estimated-in-GUI Build Time:         33.10 minutes
; Estimated-in-GUI Build Cost:         $0.00
;
; Filament used per extruder:
;    Ext #1  =  1530.20 mm  (3.680 cm^3)
;
; *** Extrusion Time Breakdown ***
; Total estimated (pre-cool) minutes: 30.95
