;Sliced by ideaMaker 4.4.1.6400, 2024-08-12 09:14:02 UTC+0000
;Dimension: 305.000 305.000 300.000 0.400
;Machine Name: Raise3D Pro3
;Filament Diameter #1: 1.750
;Filament Diameter #2: 1.750
;Filament Density #1: 1240.00
;Filament Density #2: 1270.00
;Filament Type #1: PLA
;Filament Type #2: PETG
;Filament Name #1: Raise3D Premium PLA
;Filament Name #2: Raise3D Premium PETG
G28
;LAYER:0
;Z:0.300
;HEIGHT:0.300
G1 Z0.3 E1.0
;LAYER:1
;Z:0.500
;HEIGHT:0.200
G1 Z0.5 E2.0
M84
;Print Time: 1296
;Material#1 Used: 1011.5
;Material#2 Used: 0.0
;Material#1 Cost: 0.06
;Material#2 Cost: 0.00
