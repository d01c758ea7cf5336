# Draft: a lower AG003 threshold, still under review
@{
    Rules = @{
        AG003 = @{ Threshold = 25 * 2 }
    }
}
