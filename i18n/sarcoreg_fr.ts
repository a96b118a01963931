<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR" sourcelanguage="en">
<context>
    <name>sarcoreg</name>
    <message>
        <location filename="../plugin.py" line="62"/>
        <source>Processing algorithms not available: {error}</source>
        <translation>Algorithmes de traitement indisponibles : {error}</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="71"/>
        <source>Co-register optical/SAR…</source>
        <translation>Co-recaler optique/SAR…</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="73"/>
        <source>Co-register an optical and a SAR raster layer</source>
        <translation>Co-recaler une couche raster optique et une couche raster SAR</translation>
    </message>
    <message>
        <location filename="../ui/deps_install.py" line="40"/>
        <source>sarcoreg: installing {packages}</source>
        <translation>sarcoreg : installation de {packages}</translation>
    </message>
    <message>
        <location filename="../ui/deps_install.py" line="84"/>
        <source>installing {packages} into {folder} …</source>
        <translation>installation de {packages} dans {folder} …</translation>
    </message>
    <message>
        <location filename="../ui/deps_install.py" line="107"/>
        <source>installed {packages} into {folder} with QGIS's Python; nothing QGIS ships was changed</source>
        <translation>{packages} installé(s) dans {folder} avec le Python de QGIS ; rien de ce que fournit QGIS n'a été modifié</translation>
    </message>
    <message>
        <location filename="../ui/deps_install.py" line="111"/>
        <source>installing {packages} failed: {reason}</source>
        <translation>l'installation de {packages} a échoué : {reason}</translation>
    </message>
    <message>
        <location filename="../ui/deps_install.py" line="112"/>
        <location filename="../processing/algorithms/apply_correction.py" line="141"/>
        <source>cancelled</source>
        <translation>opération annulée</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="50"/>
        <source>optical bands {text} must be band numbers such as 4,3,2</source>
        <translation>les bandes optiques {text} doivent être des numéros de bande, par exemple 4,3,2</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="58"/>
        <source>choose {layer}</source>
        <translation>choisissez {layer}</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="60"/>
        <source>{layer} '{name}' is not a raster file: save it as a GeoTIFF first</source>
        <translation>{layer} « {name} » n'est pas un fichier raster : enregistrez-la d'abord en GeoTIFF</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="95"/>
        <source>Scenes</source>
        <translation>Scènes</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="100"/>
        <source>Optical</source>
        <translation>Optique</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="102"/>
        <source>visible bands (e.g. 4,3,2)</source>
        <translation>bandes visibles (p. ex. 4,3,2)</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="103"/>
        <source>Band numbers whose mean is the grey template; empty: R, G, B</source>
        <translation>Numéros des bandes dont la moyenne forme l'imagette en niveaux de gris ; vide : R, V, B</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="104"/>
        <source>Optical bands</source>
        <translation>Bandes optiques</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="108"/>
        <source>SAR</source>
        <translation>SAR</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="112"/>
        <location filename="../processing/algorithms/coregister.py" line="85"/>
        <source>SAR band</source>
        <translation>Bande SAR</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="115"/>
        <location filename="../processing/algorithms/coregister.py" line="86"/>
        <source>SAR values</source>
        <translation>Valeurs SAR</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="118"/>
        <source>Matching</source>
        <translation>Appariement</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="123"/>
        <source>auto: the matcher that is best on the multi-region validation (places and sensors the model never saw; see the model card).</source>
        <translation>auto : la méthode d'appariement la meilleure sur la validation multirégion (lieux et capteurs que le modèle n'a jamais vus ; voir la fiche du modèle).</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="126"/>
        <location filename="../processing/algorithms/base.py" line="89"/>
        <location filename="../processing/algorithms/match_batch.py" line="33"/>
        <source>Matcher</source>
        <translation>Méthode d'appariement</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="130"/>
        <source>= template</source>
        <translation>= imagette</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="131"/>
        <location filename="../ui/inspector.py" line="119"/>
        <source>SAR window</source>
        <translation>Fenêtre SAR</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="132"/>
        <location filename="../ui/inspector.py" line="118"/>
        <source>Optical template</source>
        <translation>Imagette optique</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="133"/>
        <source>Spacing</source>
        <translation>Espacement</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="136"/>
        <source>Runtime</source>
        <translation>Moteur d'exécution</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="146"/>
        <source>Install ONNX Runtime (CPU)</source>
        <translation>Installer ONNX Runtime (CPU)</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="148"/>
        <source>pip install onnxruntime into this QGIS profile, with QGIS's own Python; nothing QGIS ships is upgraded</source>
        <translation>pip install onnxruntime dans ce profil QGIS, avec le Python de QGIS ; rien de ce que fournit QGIS n'est mis à jour</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="151"/>
        <source>… (NVIDIA GPU)</source>
        <translation>… (GPU NVIDIA)</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="153"/>
        <source>pip install onnxruntime-gpu (CUDA) instead of the CPU build; the two are never installed together</source>
        <translation>pip install onnxruntime-gpu (CUDA) au lieu de la version CPU ; les deux ne sont jamais installées ensemble</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="163"/>
        <source>Batch (Processing) needs Dask:</source>
        <translation>Le traitement par lots (menu Traitement) nécessite Dask :</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="164"/>
        <location filename="../processing/algorithms/batch.py" line="37"/>
        <source>Install Dask (for batch)</source>
        <translation>Installer Dask (pour les lots)</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="166"/>
        <source>pip install dask and distributed into this QGIS profile, with QGIS's own Python; nothing QGIS ships is upgraded. Processing ▸ sarcoreg ▸ Co-register many pairs (batch, Dask) needs them</source>
        <translation>pip install dask et distributed dans ce profil QGIS, avec le Python de QGIS ; rien de ce que fournit QGIS n'est mis à jour. Traitement ▸ sarcoreg ▸ Co-recaler de nombreux couples (lot, Dask) en a besoin</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="177"/>
        <source>Also write the SAR warped onto the optical frame (sar_corrected.tif); auto picks the transform that best predicts each tie point from the others</source>
        <translation>Écrire aussi le SAR rééchantillonné dans la géométrie de l'optique (sar_corrected.tif) ; auto choisit la transformation qui prédit le mieux chaque point homologue à partir des autres</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="179"/>
        <location filename="../ui/results.py" line="38"/>
        <location filename="../processing/algorithms/coregister.py" line="104"/>
        <location filename="../processing/algorithms/coregister.py" line="168"/>
        <source>Corrected SAR</source>
        <translation>SAR corrigé</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="182"/>
        <source>Output</source>
        <translation>Sortie</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="186"/>
        <source>Output folder of the co-registration</source>
        <translation>Dossier de sortie du co-recalage</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="187"/>
        <source>Folder</source>
        <translation>Dossier</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="188"/>
        <source>Show the results on the map</source>
        <translation>Afficher les résultats sur la carte</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="194"/>
        <source>Run</source>
        <translation>Lancer</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="197"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="200"/>
        <source>Inspect tie point</source>
        <translation>Inspecter un point homologue</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="202"/>
        <source>Click a tie point on the map to see its windows and similarity map</source>
        <translation>Cliquez sur un point homologue de la carte pour voir ses fenêtres et sa carte de similarité</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="231"/>
        <source>{auto} runs {matcher}</source>
        <translation>{auto} utilise {matcher}</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="233"/>
        <source>{runtime}; {matcher}, in numpy, without it</source>
        <translation>{runtime} ; {matcher} : en numpy, sans ONNX Runtime</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="236"/>
        <source>Execution providers of ONNX Runtime: {providers}. Learned matchers run in ONNX Runtime; classical matchers in numpy.</source>
        <translation>Fournisseurs d'exécution d'ONNX Runtime : {providers}. Les méthodes apprises s'exécutent dans ONNX Runtime ; les méthodes classiques, en numpy.</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="237"/>
        <source>none</source>
        <translation>aucun</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="322"/>
        <location filename="../processing/algorithms/coregister.py" line="132"/>
        <source>the optical layer</source>
        <translation>la couche optique</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="323"/>
        <location filename="../processing/algorithms/coregister.py" line="133"/>
        <source>the SAR layer</source>
        <translation>la couche SAR</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="326"/>
        <source>choose an output folder</source>
        <translation>choisissez un dossier de sortie</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="342"/>
        <source>a co-registration is already running: wait for it or cancel it</source>
        <translation>un co-recalage est déjà en cours : attendez qu'il se termine ou annulez-le</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="351"/>
        <source>{folder} already holds the results of a run ({files}): choose another output folder, or remove those files first</source>
        <translation>{folder} contient déjà les résultats d'une exécution ({files}) : choisissez un autre dossier de sortie ou supprimez d'abord ces fichiers</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="364"/>
        <source>co-registering into {folder} …</source>
        <translation>co-recalage en cours dans {folder} …</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="380"/>
        <source>cancelling …</source>
        <translation>annulation en cours …</translation>
    </message>
    <message>
        <location filename="../ui/dock.py" line="401"/>
        <source>done: {summary}</source>
        <translation>terminé : {summary}</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="109"/>
        <source>sarcoreg inspector</source>
        <translation>Inspecteur sarcoreg</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="113"/>
        <source>Click a tie point on the map</source>
        <translation>Cliquez sur un point homologue de la carte</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="118"/>
        <source>SAR-like translation</source>
        <translation>Traduction pseudo-SAR</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="119"/>
        <source>Similarity (peak +)</source>
        <translation>Similarité (pic +)</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="132"/>
        <source>field</source>
        <translation>champ</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="132"/>
        <source>value</source>
        <translation>valeur</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="140"/>
        <source>Tie point {id}: window ({row}, {col}), matcher {matcher}</source>
        <translation>Point homologue {id} : fenêtre ({row}, {col}), méthode d'appariement {matcher}</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="143"/>
        <source>Flagged unsure: {note}</source>
        <translation>Signalé incertain : {note}</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="156"/>
        <source>no similarity map for this point</source>
        <translation>pas de carte de similarité pour ce point</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="219"/>
        <source>cannot re-read this tie point's window: {error}</source>
        <translation>impossible de relire la fenêtre de ce point homologue : {error}</translation>
    </message>
    <message>
        <location filename="../ui/inspector.py" line="222"/>
        <source>inspector: {error}</source>
        <translation>inspecteur : {error}</translation>
    </message>
    <message>
        <location filename="../ui/notes.py" line="17"/>
        <source>guard: learned and {classical} peaks {apart} px apart; {classical} kept</source>
        <translation>garde-fou : pics appris et {classical} à {apart} px l'un de l'autre ; {classical} conservé</translation>
    </message>
    <message>
        <location filename="../ui/notes.py" line="18"/>
        <source>unsure: translation alone and {classical} peaks {apart} px apart</source>
        <translation>incertain : pics de la traduction seule et de {classical} à {apart} px l'un de l'autre</translation>
    </message>
    <message>
        <location filename="../ui/notes.py" line="19"/>
        <source>not available for {matcher}: it compares the images as they are (a classical matcher compares structure descriptors), it does not translate the template</source>
        <translation>non disponible pour {matcher} : il compare les images telles quelles (une méthode classique compare des descripteurs de structure), il ne traduit pas l'imagette</translation>
    </message>
    <message>
        <location filename="../ui/notes.py" line="22"/>
        <source>the {matcher} matcher returned no translation</source>
        <translation>la méthode {matcher} n'a rendu aucune traduction</translation>
    </message>
    <message>
        <location filename="../ui/results.py" line="31"/>
        <source>sarcoreg: {folder}</source>
        <translation>sarcoreg : {folder}</translation>
    </message>
    <message>
        <location filename="../ui/results.py" line="35"/>
        <location filename="../processing/algorithms/coregister.py" line="101"/>
        <location filename="../processing/algorithms/coregister.py" line="170"/>
        <source>Tie points</source>
        <translation>Points homologues</translation>
    </message>
    <message>
        <location filename="../ui/results.py" line="36"/>
        <location filename="../processing/algorithms/coregister.py" line="169"/>
        <source>Similarity</source>
        <translation>Similarité</translation>
    </message>
    <message>
        <location filename="../ui/runtime.py" line="38"/>
        <source>onnxruntime is not installed in QGIS's Python, so the learned matcher cannot run: install it with the button below, or with  {command}  (classical matchers work without it)</source>
        <translation>onnxruntime n'est pas installé dans le Python de QGIS, la méthode apprise ne peut donc pas s'exécuter : installez-le avec le bouton ci-dessous, ou avec  {command}  (les méthodes classiques fonctionnent sans lui)</translation>
    </message>
    <message>
        <location filename="../ui/runtime.py" line="52"/>
        <source>ONNX Runtime {version} ({providers}): will use {chosen}</source>
        <translation>ONNX Runtime {version} ({providers}) : utilisera {chosen}</translation>
    </message>
    <message>
        <location filename="../ui/runtime.py" line="54"/>
        <source>ONNX Runtime {version} ({providers}): will use {chosen} (CUDA asked for, not available)</source>
        <translation>ONNX Runtime {version} ({providers}) : utilisera {chosen} (CUDA demandé, non disponible)</translation>
    </message>
    <message>
        <location filename="../ui/task.py" line="22"/>
        <source>cancelled: no output was written under a final name</source>
        <translation>annulé : aucune sortie n'a été écrite sous un nom définitif</translation>
    </message>
    <message>
        <location filename="../ui/task.py" line="27"/>
        <source>internal error: {kind}: {error}</source>
        <translation>erreur interne : {kind} : {error}</translation>
    </message>
    <message>
        <location filename="../ui/task.py" line="58"/>
        <source>sarcoreg: co-register into {folder}</source>
        <translation>sarcoreg : co-recalage dans {folder}</translation>
    </message>
    <message>
        <location filename="../ui/task.py" line="101"/>
        <source>the co-registration stopped without a result</source>
        <translation>le co-recalage s'est arrêté sans résultat</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="35"/>
        <source>the tie-point layer lacks the field(s) {fields}: give a sarcoreg tiepoints.gpkg</source>
        <translation>il manque à la couche de points homologues le ou les champs {fields} : fournissez un tiepoints.gpkg produit par sarcoreg</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="87"/>
        <source>Apply correction</source>
        <translation>Appliquer la correction</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="91"/>
        <source>warp,gcp,tie points,affine,polynomial,tps,georeference,sar</source>
        <translation>déformation,rééchantillonnage,points d'appui,points homologues,affine,polynomiale,géoréférencement,RSO,radar</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="94"/>
        <source>Raster to correct (usually the SAR)</source>
        <translation>Raster à corriger (en général le SAR)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="96"/>
        <source>Tie points (sarcoreg tiepoints.gpkg)</source>
        <translation>Points homologues (tiepoints.gpkg produit par sarcoreg)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="97"/>
        <source>Transformation</source>
        <translation>Transformation</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="101"/>
        <source>Use outlier tie points too</source>
        <translation>Utiliser aussi les points homologues aberrants</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="103"/>
        <source>Output pixel size (tie-point CRS units, 0: like the input)</source>
        <translation>Taille de pixel en sortie (unités du SCR des points homologues, 0 : comme l'entrée)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="105"/>
        <source>Corrected raster</source>
        <translation>Raster corrigé</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="106"/>
        <source>GCPs used</source>
        <translation>Points d'appui utilisés</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="113"/>
        <source>the input layer</source>
        <translation>la couche d'entrée</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="116"/>
        <source>the tie-point layer cannot be read</source>
        <translation>la couche de points homologues est illisible</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="127"/>
        <source>the tie-point layer has no CRS: give a sarcoreg tiepoints.gpkg</source>
        <translation>la couche de points homologues n'a pas de SCR : fournissez un tiepoints.gpkg produit par sarcoreg</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="135"/>
        <source>auto: {method} (check-point RMSE px: {rmse})</source>
        <translation>auto : {method} (RMSE des points de contrôle, px : {rmse})</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/apply_correction.py" line="137"/>
        <source>{count} tie points usable for a {method} warp</source>
        <translation>{count} points homologues utilisables pour une transformation {method}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="49"/>
        <source>{layer} is missing or cannot be opened</source>
        <translation>{layer} est absente ou ne peut pas être ouverte</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="52"/>
        <source>{layer} '{name}' is served by '{provider}', not a file: save it as a GeoTIFF first (Export ▸ Save As…)</source>
        <translation>{layer} « {name} » est fournie par « {provider} », pas par un fichier : enregistrez-la d'abord en GeoTIFF (Exporter ▸ Sauvegarder sous…)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="77"/>
        <source>{name}: {value} is not one of {options}</source>
        <translation>{name} : {value} ne fait pas partie de {options}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="90"/>
        <source>SAR window (px)</source>
        <translation>Fenêtre SAR (px)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="91"/>
        <source>Optical template (px)</source>
        <translation>Imagette optique (px)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="92"/>
        <source>Spacing of the windows (px, 0: the template size)</source>
        <translation>Espacement des fenêtres (px, 0 : la taille de l'imagette)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="93"/>
        <source>ONNX Runtime provider (learned matcher)</source>
        <translation>Fournisseur d'exécution ONNX Runtime (méthode apprise)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/base.py" line="120"/>
        <source>cancelled: {reason}</source>
        <translation>annulé : {reason}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="35"/>
        <source>Dask is not installed in QGIS's Python ({modules} cannot be imported): install it with the sarcoreg dock's '{button}' button, or with  {command}</source>
        <translation>Dask n'est pas installé dans le Python de QGIS (impossible d'importer {modules}) : installez-le avec le bouton « {button} » du panneau sarcoreg, ou avec  {command}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="42"/>
        <source>Pairs ok</source>
        <translation>Couples réussis</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="42"/>
        <source>Pairs bad input</source>
        <translation>Couples aux entrées invalides</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="42"/>
        <source>Pairs error</source>
        <translation>Couples en erreur</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="43"/>
        <source>Pairs skipped complete</source>
        <translation>Couples ignorés (déjà complets)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="43"/>
        <source>Pairs cancelled</source>
        <translation>Couples annulés</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="44"/>
        <source>Pairs {status}</source>
        <translation>Couples : {status}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="70"/>
        <source>a local Dask cluster needs QGIS's Python interpreter, which was not found beside {program}: give the address of a running Dask scheduler instead</source>
        <translation>un cluster Dask local a besoin de l'interpréteur Python de QGIS, introuvable à côté de {program} : donnez plutôt l'adresse d'un ordonnanceur Dask en service</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="99"/>
        <source>Co-register many pairs (batch, Dask)</source>
        <translation>Co-recaler de nombreux couples (lot, Dask)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="104"/>
        <source>batch,dask,cluster,pairs,csv,sar,optical,coregistration,tie points</source>
        <translation>lot,traitement par lots,grappe,paires,RSO,radar,optique,co-recalage,recalage,points homologues</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="108"/>
        <source>Pairs CSV (optical,sar[,name] per row; paths relative to the CSV)</source>
        <translation>CSV des couples (optical,sar[,name] par ligne ; chemins relatifs au CSV)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="109"/>
        <source>Write each corrected SAR with</source>
        <translation>Écrire chaque SAR corrigé avec la transformation</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="111"/>
        <source>Dask scheduler address (empty: a local cluster on this computer)</source>
        <translation>Adresse de l'ordonnanceur Dask (vide : un cluster local sur cet ordinateur)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="112"/>
        <source>Workers of the local cluster (0: one per core)</source>
        <translation>Processus de calcul du cluster local (0 : un par cœur)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="114"/>
        <source>Redo pairs that are complete from an earlier run</source>
        <translation>Refaire les couples déjà complets d'une exécution précédente</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="116"/>
        <source>Output root folder (one folder per pair)</source>
        <translation>Dossier racine de sortie (un dossier par couple)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="118"/>
        <source>Batch summary ({file})</source>
        <translation>Bilan du lot ({file})</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/batch.py" line="147"/>
        <source>{failed} of {total} pairs failed: their reasons are above and in {file}</source>
        <translation>{failed} couples sur {total} ont échoué : les raisons sont indiquées ci-dessus et dans {file}</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="67"/>
        <source>Co-register optical and SAR</source>
        <translation>Co-recaler optique et SAR</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="71"/>
        <source>sar,optical,coregistration,registration,tie points,shift,gcp</source>
        <translation>RSO,radar,optique,co-recalage,recalage,points homologues,décalage,points d'appui</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="78"/>
        <source>Optical raster (template source)</source>
        <translation>Raster optique (source des imagettes)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="80"/>
        <source>Optical bands (grey = their mean; empty: the visible bands)</source>
        <translation>Bandes optiques (niveaux de gris = leur moyenne ; vide : les bandes visibles)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="82"/>
        <source>SAR raster (reference, detected)</source>
        <translation>Raster SAR (référence, détecté)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="87"/>
        <source>Write the corrected SAR with</source>
        <translation>Écrire le SAR corrigé avec la transformation</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="89"/>
        <source>Working pixel size (map units, 0: the coarser of the two)</source>
        <translation>Taille de pixel de travail (unités de la carte, 0 : la plus grossière des deux)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="92"/>
        <source>Minimum confidence (below: outlier)</source>
        <translation>Confiance minimale (en dessous : point aberrant)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="95"/>
        <source>Skip a window above this share of nodata</source>
        <translation>Ignorer une fenêtre au-delà de cette part de nodata</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="99"/>
        <source>Replace existing outputs</source>
        <translation>Remplacer les sorties existantes</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="100"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="102"/>
        <source>Shift field (dx_m, dy_m)</source>
        <translation>Champ de décalages (dx_m, dy_m)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="103"/>
        <source>Similarity maps</source>
        <translation>Cartes de similarité</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="105"/>
        <source>Report (report.json)</source>
        <translation>Rapport (report.json)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="106"/>
        <source>Georeferencer GCPs (.points)</source>
        <translation>Points d'appui du Géoréférenceur (.points)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="107"/>
        <source>Inlier tie points</source>
        <translation>Points homologues retenus</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/coregister.py" line="108"/>
        <source>Outlier tie points</source>
        <translation>Points homologues aberrants</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="32"/>
        <source>settings {text} must be reference/template sizes such as 256/192,512/384</source>
        <translation>les réglages {text} doivent être des tailles référence/imagette, par exemple 256/192,512/384</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="53"/>
        <source>Evaluate matchers</source>
        <translation>Évaluer les méthodes d'appariement</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="57"/>
        <source>benchmark,cmr,rmse,evaluation,matcher</source>
        <translation>banc d'essai,évaluation,appariement,précision</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="61"/>
        <source>Folder of co-registered pairs (the shared data layout)</source>
        <translation>Dossier de couples co-recalés (organisé comme les données partagées)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="63"/>
        <source>Or your own aligned pairs: CSV of optical,sar[,name][,dy,dx][,sar_kind]</source>
        <translation>Ou vos propres couples alignés : CSV de optical,sar[,name][,dy,dx][,sar_kind]</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="66"/>
        <source>Matchers (none: all)</source>
        <translation>Méthodes d'appariement (aucune : toutes)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="70"/>
        <source>Reference/template sizes</source>
        <translation>Tailles référence/imagette</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="72"/>
        <source>Samples per setting (per source, or per pair of a CSV)</source>
        <translation>Échantillons par réglage (par source, ou par couple d'un CSV)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="73"/>
        <source>Pairs</source>
        <translation>Couples</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="77"/>
        <source>Seed</source>
        <translation>Graine</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="79"/>
        <source>Noise variance on the template (share of its variance)</source>
        <translation>Variance du bruit ajouté à l'imagette (part de sa variance)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="82"/>
        <source>Protocol (sources: per source and overall over every shared source with a truth; la: the Los Angeles pairs alone)</source>
        <translation>Protocole (sources : par source et globalement, sur toutes les sources partagées dotées d'une vérité terrain ; la : les couples de Los Angeles seuls)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="87"/>
        <source>Truth of the Los Angeles samples, protocol sources ({choices})</source>
        <translation>Vérité terrain des échantillons de Los Angeles, protocole sources ({choices})</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="93"/>
        <source>Scores (CSV)</source>
        <translation>Scores (CSV)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="93"/>
        <location filename="../processing/algorithms/match_batch.py" line="39"/>
        <source>CSV files (*.csv)</source>
        <translation>Fichiers CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="111"/>
        <source>give either a folder of co-registered pairs or a CSV of your own aligned pairs, not both</source>
        <translation>donnez soit un dossier de couples co-recalés, soit un CSV de vos propres couples alignés, pas les deux</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="117"/>
        <source>template noise applies to the 'la' protocol: set it to 0</source>
        <translation>le bruit sur l'imagette s'applique au protocole 'la' : mettez-le à 0</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="125"/>
        <source>{pair} ({size} px): the truth given may be off; two unrelated matchers agree {dy:+.1f}, {dx:+.1f} px from it</source>
        <translation>{pair} ({size} px) : la vérité donnée est peut-être fausse ; deux méthodes indépendantes s'accordent à {dy:+.1f}, {dx:+.1f} px d'elle</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/evaluate.py" line="131"/>
        <source>template noise applies to the 'la' protocol: set it to 0 or choose protocol 'la'</source>
        <translation>le bruit sur l'imagette ne s'applique qu'au protocole « la » : mettez-le à 0 ou choisissez le protocole « la »</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="24"/>
        <source>Match batch (benchmark protocol)</source>
        <translation>Appariement par lot (protocole du banc d'essai)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="28"/>
        <source>benchmark,template matching,manifest,csv,sar,optical</source>
        <translation>banc d'essai,appariement de gabarits,manifeste,RSO,radar,optique</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="32"/>
        <source>Manifest CSV (id,template,reference)</source>
        <translation>Manifeste CSV (id,template,reference)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="37"/>
        <source>Replace an existing results file</source>
        <translation>Remplacer un fichier de résultats existant</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="39"/>
        <source>Results CSV (id,row,col,score,confidence,seconds)</source>
        <translation>CSV des résultats (id,row,col,score,confidence,seconds)</translation>
    </message>
    <message>
        <location filename="../processing/algorithms/match_batch.py" line="46"/>
        <source>this version of the sarcoreg engine has no match-batch (core/matchbatch.py)</source>
        <translation>cette version du moteur sarcoreg n'a pas de match-batch (core/matchbatch.py)</translation>
    </message>
    <message>
        <location filename="../processing/provider.py" line="26"/>
        <source>sarcoreg {version}: optical/SAR co-registration</source>
        <translation>sarcoreg {version} : co-recalage optique/SAR</translation>
    </message>
    <message>
        <source>Folder of co-registered pairs</source>
        <translation type="obsolete">Dossier de couples co-recalés</translation>
    </message>
    <message>
        <source>Samples per setting</source>
        <translation type="obsolete">Échantillons par réglage</translation>
    </message>
</context>
</TS>
