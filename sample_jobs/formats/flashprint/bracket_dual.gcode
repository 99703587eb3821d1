;machine_type: Creator Pro 2
;right_extruder_material: PLA
;right_extruder_material_density: 1.24
;left_extruder_material: PVA
;left_extruder_material_density: 1.23
;filament_diameter0: 1.75
;filament_diameter1: 1.75
;right_extruder_temperature: 210
;left_extruder_temperature: 215
;layer_height: 0.2
;perimeter_shells: 2
;platform_temperature: 50
;start gcode
M118 X31.60 Y69.10 Z26.65 T0
M140 S50 T0
M104 S210 T0
M104 S215 T1
G90
G28
M132 X Y Z A B
M7 T0
M6 T0
M6 T1
;layer_count: 90
M108 T0
G1 Z.200 F420
G1 X10 Y10 E1.2 F1200
M108 T1
;structure:support
G1 X20 Y10 E0.6 F1200
M108 T0
;end gcode
M104 S0 T0
M104 S0 T1
M140 S0 T0
M18
