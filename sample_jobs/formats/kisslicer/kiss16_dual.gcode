; KISSlicer - FREE
; Windows
; version 1.6.3 Release Win64
; Built: May  4 2018, 18:10:35
; Running on 8 cores
;
; Saved: 2025-03-11 09:14:02
; 'kiss16_dual.gcode'
;
; *** Printer Settings ***
;
; printer_name = Dual FFF
; extension = gcode
; num_extruders = 2
; firmware_type = 1
; ext_1_mat_name = PLA
; ext_2_mat_name = PVA
; model_ext = 1
; support_ext = 2
;
; *** Material Settings for Extruder 1 ***
;
; material_name = PLA
; temperature_C = 210
; fiber_dia_mm = 1.75
;
; *** Material Settings for Extruder 2 ***
;
; material_name = PVA
; temperature_C = 215
; fiber_dia_mm = 1.75
;
; *** Style Settings ***
;
; style_name = Fine
; layer_thickness_mm = 0.15
; max_layer_thickness_mm = 0
; first_layer_thickness_mm = 0.3
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
; BEGIN_LAYER_OBJECT z=0.300 z_thickness=0.300
T0
G1 X100 Y100 Z0.3 E1.2 F1200
; END_LAYER_OBJECT z=0.300
; BEGIN_LAYER_OBJECT z=0.450 z_thickness=0.150
T1
G1 X110 Y100 Z0.45 E0.4 F1200
; END_LAYER_OBJECT z=0.450
;
; *** G-code Postfix ***
;
M104 S0
M140 S0
;
; Calculated-during-export Build Time: 48.20 minutes
; Estimated-in-GUI Build Time:         51.75 minutes
;
; Filament used per extruder:
;    Ext 1 =  2411.37 mm  (5.800 cm^3)
;    Ext 2 =   402.09 mm  (0.967 cm^3)
