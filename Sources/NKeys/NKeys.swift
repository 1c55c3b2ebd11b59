// NKeys
