"""Per-language word lists for telling a misquote from a typo (:mod:`archive.checks.meaning`): negations,
number words, month names, antonym pairs and opposite prefixes, in English, French, Spanish, Portuguese and
German (the languages of the real pages the checks were measured on, docs/checking.md).

Written as plain words, accents included; :mod:`archive.checks.meaning` folds them the way it folds text.
"""
from __future__ import annotations

_NEGATION_WORDS = """
not no never without nobody nothing none neither nor nowhere cannot
ne pas jamais sans aucun aucune rien ni nullement guère
nunca jamás sin ningún ninguno ninguna nada nadie tampoco
não jamais sem nenhum nenhuma ninguém nem
nicht kein keine keinen keinem keiner keines nie niemals ohne nichts niemand weder nirgends
"""
NEGATIONS = frozenset(_NEGATION_WORDS.split())
# Number words by value ("one", "un", "uno", "um", "ein" are left out: they are articles too).
NUMBER_WORDS = {w: v for v, words in {
    "0": "zero zéro cero zero null", "2": "two deux dos dois duas zwei", "3": "three trois tres três drei",
    "4": "four quatre cuatro quatro vier", "5": "five cinq cinco fünf", "6": "six seis sechs",
    "7": "seven sept siete sete sieben", "8": "eight huit ocho oito acht", "9": "nine neuf nueve nove neun",
    "10": "ten dix diez dez zehn", "11": "eleven onze once elf", "12": "twelve douze doce doze zwölf dozen",
    "13": "thirteen treize trece treze dreizehn", "14": "fourteen quatorze catorce catorze vierzehn",
    "15": "fifteen quinze quince fünfzehn", "16": "sixteen seize dieciséis dezesseis sechzehn",
    "17": "seventeen diecisiete dezessete siebzehn", "18": "eighteen dieciocho dezoito achtzehn",
    "19": "nineteen diecinueve dezenove neunzehn", "20": "twenty vingt veinte vinte zwanzig",
    "30": "thirty trente treinta trinta dreißig", "40": "forty quarante cuarenta quarenta vierzig",
    "50": "fifty cinquante cincuenta cinquenta fünfzig", "60": "sixty soixante sesenta sessenta sechzig",
    "70": "seventy setenta siebzig", "80": "eighty ochenta oitenta achtzig",
    "90": "ninety noventa neunzig", "100": "hundred cent cien ciento cem cento hundert",
    "1000": "thousand mille mil tausend",
    "1e6": "million millions millón millones milhão milhões millionen",
    "1e9": "billion billions milliard milliards bilhão bilhões milliarde milliarden",
}.items() for w in words.split()}
# Month names, and the abbreviations that are no other word ("Jan", "mar", "ago", "out", "set" are).
MONTHS = {w: f"month{i}" for i, names in enumerate((
    "january janvier enero janeiro januar janv ene", "february février febrero fevereiro februar feb febr févr fev",
    "march mars marzo março märz", "april avril abril apr avr abr", "may mai mayo maio",
    "june juin junio junho juni jun", "july juillet julio julho juli jul juil", "august août agosto aug",
    "september septembre septiembre setembro sep sept", "october octobre octubre outubro oktober oct okt",
    "november novembre noviembre novembro nov", "december décembre diciembre dezembro dezember dec déc dic dez",
), 1) for w in names.split()}
VERB_MONTHS = frozenset({"may", "march"})  # months only when capitalized mid-sentence
#: Antonym-like pairs, "a b|c d|…" (any simple inflection of them counts).
ANTONYMS = """
major minor|more less|more fewer|most least|increase decrease|increased decreased|rise fall|rose fell|
risen fallen|rising falling|higher lower|high low|highest lowest|up down|before after|win lose|won lost|
winning losing|accept reject|accepted rejected|approve reject|approved rejected|support oppose|
supported opposed|best worst|better worse|first last|strong weak|stronger weaker|large small|larger smaller|
big small|bigger smaller|open closed|success failure|gain loss|maximum minimum|include exclude|
included excluded|guilty innocent|true false|above below|over under|always never|all none|positive negative|
safe dangerous|cheap expensive|early late|earlier later|ahead behind|inside outside|rich poor|love hate|
add remove|added removed|allow ban|allowed banned|confirm deny|confirmed denied|start end|started ended|
begin end|long short|longer shorter|fast slow|hot cold|warmer colder|easy hard|right wrong|majority minority|
profit loss|surplus deficit|import export|buy sell|bought sold|pass fail|passed failed|public private|
men women|north south|east west|yes no|old new|young old|lowest highest|raise cut|raised cut|
majeur mineur|plus moins|hausse baisse|augmenter diminuer|augmente diminue|augmentation diminution|
avant après|gagner perdre|gagné perdu|meilleur pire|premier dernier|première dernière|fort faible|
grand petit|grande petite|haut bas|ouvert fermé|succès échec|accepter refuser|accepté refusé|pour contre|
vrai faux|toujours jamais|tous aucun|riche pauvre|début fin|oui non|nord sud|majorité minorité|hommes femmes|
mayor menor|más menos|subir bajar|sube baja|subió bajó|aumento disminución|aumentó disminuyó|antes después|
ganar perder|ganó perdió|mejor peor|primero último|primera última|fuerte débil|grande pequeño|alto bajo|
abierto cerrado|éxito fracaso|aceptar rechazar|aceptó rechazó|verdadero falso|siempre nunca|todos ninguno|
rico pobre|sí no|norte sur|mayoría minoría|hombres mujeres|máximo mínimo|positivo negativo|
maior menor|mais menos|subir descer|aumento redução|aumentou diminuiu|antes depois|ganhar perder|
ganhou perdeu|melhor pior|primeiro último|forte fraco|grande pequeno|alto baixo|aberto fechado|
sucesso fracasso|aceitar rejeitar|aceitou rejeitou|verdadeiro falso|sempre nunca|todos nenhum|sim não|
norte sul|maioria minoria|homens mulheres|
mehr weniger|größer kleiner|groß klein|hoch niedrig|höher niedriger|steigen sinken|stieg sank|
gestiegen gesunken|vor nach|vorher nachher|gewinnen verlieren|gewann verlor|gewonnen verloren|
besser schlechter|beste schlechteste|erste letzte|stark schwach|offen geschlossen|erfolg misserfolg|
annehmen ablehnen|angenommen abgelehnt|für gegen|wahr falsch|immer nie|alle keine|reich arm|ja nein|
nord süd|mehrheit minderheit|männer frauen|zunahme abnahme|anstieg rückgang
"""

#: Opposite prefixes (unlikely/likely, illégal/légal, desigual/igual, unmöglich/möglich, não-/nicht-).
OPPOSITE_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "des", "de", "mal", "miss", "nicht", "nao")
#: Words for 1 that are articles too: a number only before "hundred", "million"…
ONE_WORDS = frozenset(("one", "un", "une", "uno", "una", "um", "uma", "ein", "eine"))
