; HEADER_BLOCK_START
; BambuStudio 02.04.00.70
; model printing time: 1h 12m 6s; total estimated time: 1h 20m 3s
; total layer number: 96
; total filament length [mm] : 4120.55
; total filament volume [cm^3] : 9911.02
; total filament weight [g] : 12.52
; model label id: 171,193
; filament_density: 1.24,1.27,1.24,1.26
; filament_diameter: 1.75,1.75,1.75,1.75
; max_z_height: 19.20
; filament: 2
; HEADER_BLOCK_END

; CONFIG_BLOCK_START
; filament_settings_id = "Bambu PLA Basic @BBL A1";"Bambu PETG HF @BBL A1";"Bambu PLA Matte @BBL A1";"Bambu TPU 95A @BBL A1"
; filament_type = PLA;PETG;PLA;TPU
; initial_layer_print_height = 0.2
; layer_height = 0.2
; printer_model = Bambu Lab A1
; CONFIG_BLOCK_END

; EXECUTABLE_BLOCK_START
G28
G1 Z0.2 F720
G1 X100 Y100 E1.2 F1200
; EXECUTABLE_BLOCK_END
