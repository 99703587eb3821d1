G21 ;metric values
G90 ;absolute positioning
M82 ;set extruder to absolute mode
M107 ;start with the fan off
M140 S60 ; bed temperature
M104 S210 ; nozzle temperature
G28 ; home all axes
G29 ; bed levelling
M190 S60 ; wait for the bed
M109 S210 ; wait for the nozzle
G92 E0 ;zero the extruded length
G1 Z2.0 F3000
G1 X0.1 Y20 Z0.3 F5000.0 ; purge line start
G1 X0.1 Y200.0 Z0.3 F1500.0 E15
G1 X0.4 Y200.0 Z0.3 F5000.0
G1 X0.4 Y20 Z0.3 F1500.0 E30
G92 E0
G1 Z2.0 F3000
M117 Printing (IceSL)...
; <IceSL 2.5.1>
; filament_name :   Generic PETG
; filament_type :   PETG
; z_layer_height_mm :   0.15
; z_layer_height_first_layer_mm :   0.3
; nozzle_diameter_mm_0 :   0.4
; filament_used_mm :   2204.8
; filament_used_g :   6.71
; estimated_print_time_s :   3120
; layer_count :   80
G1 Z0.3 F720
G1 X100 Y100 E1.2 F1200
M84
