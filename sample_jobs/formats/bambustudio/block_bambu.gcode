; HEADER_BLOCK_START
; BambuStudio 01.09.07.52
; model printing time: 41m 2s; total estimated time: 45m 18s
; total layer number: 30
; total filament length [mm] : 2460.12
; total filament volume [cm^3] : 5917.42
; total filament weight [g] : 7.41
; filament_density: 1.26,1.25
; filament_diameter: 1.75,1.75
; max_z_height: 6.00
; HEADER_BLOCK_END

; CONFIG_BLOCK_START
; filament_settings_id = "Bambu PLA Basic @BBL X1C";"Bambu PLA Basic @BBL X1C"
; filament_type = PLA;PLA
; layer_height = 0.2
; printer_model = Bambu Lab X1 Carbon
; CONFIG_BLOCK_END

; EXECUTABLE_BLOCK_START
G28
G1 Z0.2 F720
G1 X100 Y100 E1.2 F1200
; EXECUTABLE_BLOCK_END
