// A small, APPROXIMATE street → point list for "Which district am I in?" — a few main streets of
// Ciechanów with a rough point on each. It is a stand-in until the city provides its street
// register (e.g. from the municipal address points); the page says the answer is approximate.
window.INFORMATOR_STREETS = [
  { name: 'Plac Jana Pawła II', lat: 52.8812, lon: 20.6195 },
  { name: 'Warszawska', lat: 52.8785, lon: 20.6180 },
  { name: 'Henryka Sienkiewicza', lat: 52.8800, lon: 20.6140 },
  { name: '17 Stycznia', lat: 52.8825, lon: 20.6110 },
  { name: 'Płońska', lat: 52.8760, lon: 20.6000 },
  { name: 'Pułtuska', lat: 52.8690, lon: 20.6290 },
  { name: 'Mławska', lat: 52.8960, lon: 20.6180 },
  { name: 'Tysiąclecia', lat: 52.8870, lon: 20.6060 },
  { name: 'Sońska', lat: 52.8850, lon: 20.6420 },
  { name: 'Kolejowa', lat: 52.8740, lon: 20.6120 },
  { name: 'Powstańców Wielkopolskich', lat: 52.8640, lon: 20.6500 },
  { name: 'Kargoszyńska', lat: 52.8930, lon: 20.6560 },
  { name: 'Zamkowa', lat: 52.8890, lon: 20.6310 }
];
