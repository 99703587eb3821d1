; <IceSL 2.5.1>
; filament_name :   Generic PLA
; filament_type :   PLA
; z_layer_height_mm :   0.2
; z_layer_height_first_layer_mm :   0.3
; nozzle_diameter_mm_0 :   0.4
; filament_used_mm :   1011.5
; filament_used_g :   3.02
; estimated_print_time_s :   1350
; layer_count :   30
G28
G1 Z0.3 F720
G1 X100 Y100 E1.2 F1200
M84
