<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" hasScaleBasedVisibilityFlag="0" simplifyDrawingHints="1" simplifyDrawingTol="1" simplifyLocal="1" labelsEnabled="0" maxScale="0" minScale="100000000" symbologyReferenceScale="-1" styleCategories="AllStyleCategories" simplifyAlgorithm="0" simplifyMaxScale="1" readOnly="0">
  <flags>
    <Identifiable>1</Identifiable>
    <Removable>1</Removable>
    <Searchable>1</Searchable>
    <Private>0</Private>
  </flags>
  <temporal endExpression="" startField="" durationField="" enabled="0" fixedDuration="0" mode="0" accumulate="0" endField="" startExpression="" limitMode="0" durationUnit="min">
    <fixedRange>
      <start></start>
      <end></end>
    </fixedRange>
  </temporal>
  <renderer-v2 enableorderby="0" symbollevels="0" referencescale="-1" type="RuleRenderer" forceraster="0">
    <rules key="{8fb8e0cf-ab10-42e7-be3b-05a48883d6b6}">
      <rule filter="&quot;outlier&quot; = 0 AND &quot;confidence&quot; >= 0.6" key="{a84d0574-2ff1-41b3-aefb-4018656bb364}" symbol="0" label="inlier, confidence ≥ 0.6"/>
      <rule filter="&quot;outlier&quot; = 0 AND &quot;confidence&quot; >= 0.35 AND &quot;confidence&quot; &lt; 0.6" key="{52c52675-18c9-4fc0-b0b4-e2bc0aaeb044}" symbol="1" label="inlier, confidence 0.35–0.6"/>
      <rule filter="&quot;outlier&quot; = 0 AND &quot;confidence&quot; &lt; 0.35" key="{3f93f9e8-eb2a-4602-8f74-abf474754b0c}" symbol="2" label="inlier, confidence &lt; 0.35"/>
      <rule filter="&quot;outlier&quot; = 1" key="{2ad831a3-c7eb-4963-b469-c3e3a4cf7c71}" symbol="3" label="outlier (see outlier_reason)"/>
    </rules>
    <symbols>
      <symbol alpha="1" clip_to_extent="1" name="0" type="marker" force_rhr="0">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" value="" type="QString"/>
            <Option name="properties"/>
            <Option name="type" value="collection" type="QString"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" class="GeometryGenerator" locked="0" pass="0">
          <Option type="Map">
            <Option name="SymbolType" value="Line" type="QString"/>
            <Option name="geometryModifier" value="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" type="QString"/>
            <Option name="units" value="MapUnit" type="QString"/>
          </Option>
          <prop v="Line" k="SymbolType"/>
          <prop v="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" k="geometryModifier"/>
          <prop v="MapUnit" k="units"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
          <symbol alpha="1" clip_to_extent="1" name="@0@0" type="line" force_rhr="0">
            <data_defined_properties>
              <Option type="Map">
                <Option name="name" value="" type="QString"/>
                <Option name="properties"/>
                <Option name="type" value="collection" type="QString"/>
              </Option>
            </data_defined_properties>
            <layer enabled="1" class="ArrowLine" locked="0" pass="0">
              <Option type="Map">
                <Option name="arrow_start_width" value="0.9" type="QString"/>
                <Option name="arrow_start_width_unit" value="MM" type="QString"/>
                <Option name="arrow_start_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="arrow_type" value="0" type="QString"/>
                <Option name="arrow_width" value="0.9" type="QString"/>
                <Option name="arrow_width_unit" value="MM" type="QString"/>
                <Option name="arrow_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_length" value="2.6" type="QString"/>
                <Option name="head_length_unit" value="MM" type="QString"/>
                <Option name="head_length_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_thickness" value="1.95" type="QString"/>
                <Option name="head_thickness_unit" value="MM" type="QString"/>
                <Option name="head_thickness_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_type" value="0" type="QString"/>
                <Option name="is_curved" value="0" type="QString"/>
                <Option name="is_repeated" value="0" type="QString"/>
                <Option name="offset" value="0" type="QString"/>
                <Option name="offset_unit" value="MM" type="QString"/>
                <Option name="offset_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="ring_filter" value="0" type="QString"/>
              </Option>
              <prop v="0.9" k="arrow_start_width"/>
              <prop v="MM" k="arrow_start_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_start_width_unit_scale"/>
              <prop v="0" k="arrow_type"/>
              <prop v="0.9" k="arrow_width"/>
              <prop v="MM" k="arrow_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_width_unit_scale"/>
              <prop v="2.6" k="head_length"/>
              <prop v="MM" k="head_length_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_length_unit_scale"/>
              <prop v="1.95" k="head_thickness"/>
              <prop v="MM" k="head_thickness_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_thickness_unit_scale"/>
              <prop v="0" k="head_type"/>
              <prop v="0" k="is_curved"/>
              <prop v="0" k="is_repeated"/>
              <prop v="0" k="offset"/>
              <prop v="MM" k="offset_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="offset_unit_scale"/>
              <prop v="0" k="ring_filter"/>
              <data_defined_properties>
                <Option type="Map">
                  <Option name="name" value="" type="QString"/>
                  <Option name="properties"/>
                  <Option name="type" value="collection" type="QString"/>
                </Option>
              </data_defined_properties>
              <symbol alpha="1" clip_to_extent="1" name="@@0@0@0" type="fill" force_rhr="0">
                <data_defined_properties>
                  <Option type="Map">
                    <Option name="name" value="" type="QString"/>
                    <Option name="properties"/>
                    <Option name="type" value="collection" type="QString"/>
                  </Option>
                </data_defined_properties>
                <layer enabled="1" class="SimpleFill" locked="0" pass="0">
                  <Option type="Map">
                    <Option name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="color" value="26,150,65,255" type="QString"/>
                    <Option name="joinstyle" value="bevel" type="QString"/>
                    <Option name="offset" value="0,0" type="QString"/>
                    <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="offset_unit" value="MM" type="QString"/>
                    <Option name="outline_color" value="35,35,35,220" type="QString"/>
                    <Option name="outline_style" value="solid" type="QString"/>
                    <Option name="outline_width" value="0.15" type="QString"/>
                    <Option name="outline_width_unit" value="MM" type="QString"/>
                    <Option name="style" value="solid" type="QString"/>
                  </Option>
                  <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
                  <prop v="26,150,65,255" k="color"/>
                  <prop v="bevel" k="joinstyle"/>
                  <prop v="0,0" k="offset"/>
                  <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
                  <prop v="MM" k="offset_unit"/>
                  <prop v="35,35,35,220" k="outline_color"/>
                  <prop v="solid" k="outline_style"/>
                  <prop v="0.15" k="outline_width"/>
                  <prop v="MM" k="outline_width_unit"/>
                  <prop v="solid" k="style"/>
                  <data_defined_properties>
                    <Option type="Map">
                      <Option name="name" value="" type="QString"/>
                      <Option name="properties"/>
                      <Option name="type" value="collection" type="QString"/>
                    </Option>
                  </data_defined_properties>
                </layer>
              </symbol>
            </layer>
          </symbol>
        </layer>
        <layer enabled="1" class="SimpleMarker" locked="0" pass="0">
          <Option type="Map">
            <Option name="angle" value="0" type="QString"/>
            <Option name="cap_style" value="square" type="QString"/>
            <Option name="color" value="26,150,65,255" type="QString"/>
            <Option name="horizontal_anchor_point" value="1" type="QString"/>
            <Option name="joinstyle" value="bevel" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="offset" value="0,0" type="QString"/>
            <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="offset_unit" value="MM" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="scale_method" value="area" type="QString"/>
            <Option name="size" value="2" type="QString"/>
            <Option name="size_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
            <Option name="vertical_anchor_point" value="1" type="QString"/>
          </Option>
          <prop v="0" k="angle"/>
          <prop v="square" k="cap_style"/>
          <prop v="26,150,65,255" k="color"/>
          <prop v="1" k="horizontal_anchor_point"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="circle" k="name"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="35,35,35,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.2" k="outline_width"/>
          <prop v="3x:0,0,0,0,0,0" k="outline_width_map_unit_scale"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="area" k="scale_method"/>
          <prop v="2" k="size"/>
          <prop v="3x:0,0,0,0,0,0" k="size_map_unit_scale"/>
          <prop v="MM" k="size_unit"/>
          <prop v="1" k="vertical_anchor_point"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol alpha="1" clip_to_extent="1" name="1" type="marker" force_rhr="0">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" value="" type="QString"/>
            <Option name="properties"/>
            <Option name="type" value="collection" type="QString"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" class="GeometryGenerator" locked="0" pass="0">
          <Option type="Map">
            <Option name="SymbolType" value="Line" type="QString"/>
            <Option name="geometryModifier" value="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" type="QString"/>
            <Option name="units" value="MapUnit" type="QString"/>
          </Option>
          <prop v="Line" k="SymbolType"/>
          <prop v="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" k="geometryModifier"/>
          <prop v="MapUnit" k="units"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
          <symbol alpha="1" clip_to_extent="1" name="@1@0" type="line" force_rhr="0">
            <data_defined_properties>
              <Option type="Map">
                <Option name="name" value="" type="QString"/>
                <Option name="properties"/>
                <Option name="type" value="collection" type="QString"/>
              </Option>
            </data_defined_properties>
            <layer enabled="1" class="ArrowLine" locked="0" pass="0">
              <Option type="Map">
                <Option name="arrow_start_width" value="0.9" type="QString"/>
                <Option name="arrow_start_width_unit" value="MM" type="QString"/>
                <Option name="arrow_start_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="arrow_type" value="0" type="QString"/>
                <Option name="arrow_width" value="0.9" type="QString"/>
                <Option name="arrow_width_unit" value="MM" type="QString"/>
                <Option name="arrow_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_length" value="2.6" type="QString"/>
                <Option name="head_length_unit" value="MM" type="QString"/>
                <Option name="head_length_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_thickness" value="1.95" type="QString"/>
                <Option name="head_thickness_unit" value="MM" type="QString"/>
                <Option name="head_thickness_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_type" value="0" type="QString"/>
                <Option name="is_curved" value="0" type="QString"/>
                <Option name="is_repeated" value="0" type="QString"/>
                <Option name="offset" value="0" type="QString"/>
                <Option name="offset_unit" value="MM" type="QString"/>
                <Option name="offset_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="ring_filter" value="0" type="QString"/>
              </Option>
              <prop v="0.9" k="arrow_start_width"/>
              <prop v="MM" k="arrow_start_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_start_width_unit_scale"/>
              <prop v="0" k="arrow_type"/>
              <prop v="0.9" k="arrow_width"/>
              <prop v="MM" k="arrow_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_width_unit_scale"/>
              <prop v="2.6" k="head_length"/>
              <prop v="MM" k="head_length_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_length_unit_scale"/>
              <prop v="1.95" k="head_thickness"/>
              <prop v="MM" k="head_thickness_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_thickness_unit_scale"/>
              <prop v="0" k="head_type"/>
              <prop v="0" k="is_curved"/>
              <prop v="0" k="is_repeated"/>
              <prop v="0" k="offset"/>
              <prop v="MM" k="offset_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="offset_unit_scale"/>
              <prop v="0" k="ring_filter"/>
              <data_defined_properties>
                <Option type="Map">
                  <Option name="name" value="" type="QString"/>
                  <Option name="properties"/>
                  <Option name="type" value="collection" type="QString"/>
                </Option>
              </data_defined_properties>
              <symbol alpha="1" clip_to_extent="1" name="@@1@0@0" type="fill" force_rhr="0">
                <data_defined_properties>
                  <Option type="Map">
                    <Option name="name" value="" type="QString"/>
                    <Option name="properties"/>
                    <Option name="type" value="collection" type="QString"/>
                  </Option>
                </data_defined_properties>
                <layer enabled="1" class="SimpleFill" locked="0" pass="0">
                  <Option type="Map">
                    <Option name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="color" value="166,217,106,255" type="QString"/>
                    <Option name="joinstyle" value="bevel" type="QString"/>
                    <Option name="offset" value="0,0" type="QString"/>
                    <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="offset_unit" value="MM" type="QString"/>
                    <Option name="outline_color" value="35,35,35,220" type="QString"/>
                    <Option name="outline_style" value="solid" type="QString"/>
                    <Option name="outline_width" value="0.15" type="QString"/>
                    <Option name="outline_width_unit" value="MM" type="QString"/>
                    <Option name="style" value="solid" type="QString"/>
                  </Option>
                  <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
                  <prop v="166,217,106,255" k="color"/>
                  <prop v="bevel" k="joinstyle"/>
                  <prop v="0,0" k="offset"/>
                  <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
                  <prop v="MM" k="offset_unit"/>
                  <prop v="35,35,35,220" k="outline_color"/>
                  <prop v="solid" k="outline_style"/>
                  <prop v="0.15" k="outline_width"/>
                  <prop v="MM" k="outline_width_unit"/>
                  <prop v="solid" k="style"/>
                  <data_defined_properties>
                    <Option type="Map">
                      <Option name="name" value="" type="QString"/>
                      <Option name="properties"/>
                      <Option name="type" value="collection" type="QString"/>
                    </Option>
                  </data_defined_properties>
                </layer>
              </symbol>
            </layer>
          </symbol>
        </layer>
        <layer enabled="1" class="SimpleMarker" locked="0" pass="0">
          <Option type="Map">
            <Option name="angle" value="0" type="QString"/>
            <Option name="cap_style" value="square" type="QString"/>
            <Option name="color" value="166,217,106,255" type="QString"/>
            <Option name="horizontal_anchor_point" value="1" type="QString"/>
            <Option name="joinstyle" value="bevel" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="offset" value="0,0" type="QString"/>
            <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="offset_unit" value="MM" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="scale_method" value="area" type="QString"/>
            <Option name="size" value="2" type="QString"/>
            <Option name="size_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
            <Option name="vertical_anchor_point" value="1" type="QString"/>
          </Option>
          <prop v="0" k="angle"/>
          <prop v="square" k="cap_style"/>
          <prop v="166,217,106,255" k="color"/>
          <prop v="1" k="horizontal_anchor_point"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="circle" k="name"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="35,35,35,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.2" k="outline_width"/>
          <prop v="3x:0,0,0,0,0,0" k="outline_width_map_unit_scale"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="area" k="scale_method"/>
          <prop v="2" k="size"/>
          <prop v="3x:0,0,0,0,0,0" k="size_map_unit_scale"/>
          <prop v="MM" k="size_unit"/>
          <prop v="1" k="vertical_anchor_point"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol alpha="1" clip_to_extent="1" name="2" type="marker" force_rhr="0">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" value="" type="QString"/>
            <Option name="properties"/>
            <Option name="type" value="collection" type="QString"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" class="GeometryGenerator" locked="0" pass="0">
          <Option type="Map">
            <Option name="SymbolType" value="Line" type="QString"/>
            <Option name="geometryModifier" value="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" type="QString"/>
            <Option name="units" value="MapUnit" type="QString"/>
          </Option>
          <prop v="Line" k="SymbolType"/>
          <prop v="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 2.5, 11) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" k="geometryModifier"/>
          <prop v="MapUnit" k="units"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
          <symbol alpha="1" clip_to_extent="1" name="@2@0" type="line" force_rhr="0">
            <data_defined_properties>
              <Option type="Map">
                <Option name="name" value="" type="QString"/>
                <Option name="properties"/>
                <Option name="type" value="collection" type="QString"/>
              </Option>
            </data_defined_properties>
            <layer enabled="1" class="ArrowLine" locked="0" pass="0">
              <Option type="Map">
                <Option name="arrow_start_width" value="0.9" type="QString"/>
                <Option name="arrow_start_width_unit" value="MM" type="QString"/>
                <Option name="arrow_start_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="arrow_type" value="0" type="QString"/>
                <Option name="arrow_width" value="0.9" type="QString"/>
                <Option name="arrow_width_unit" value="MM" type="QString"/>
                <Option name="arrow_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_length" value="2.6" type="QString"/>
                <Option name="head_length_unit" value="MM" type="QString"/>
                <Option name="head_length_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_thickness" value="1.95" type="QString"/>
                <Option name="head_thickness_unit" value="MM" type="QString"/>
                <Option name="head_thickness_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_type" value="0" type="QString"/>
                <Option name="is_curved" value="0" type="QString"/>
                <Option name="is_repeated" value="0" type="QString"/>
                <Option name="offset" value="0" type="QString"/>
                <Option name="offset_unit" value="MM" type="QString"/>
                <Option name="offset_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="ring_filter" value="0" type="QString"/>
              </Option>
              <prop v="0.9" k="arrow_start_width"/>
              <prop v="MM" k="arrow_start_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_start_width_unit_scale"/>
              <prop v="0" k="arrow_type"/>
              <prop v="0.9" k="arrow_width"/>
              <prop v="MM" k="arrow_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_width_unit_scale"/>
              <prop v="2.6" k="head_length"/>
              <prop v="MM" k="head_length_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_length_unit_scale"/>
              <prop v="1.95" k="head_thickness"/>
              <prop v="MM" k="head_thickness_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_thickness_unit_scale"/>
              <prop v="0" k="head_type"/>
              <prop v="0" k="is_curved"/>
              <prop v="0" k="is_repeated"/>
              <prop v="0" k="offset"/>
              <prop v="MM" k="offset_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="offset_unit_scale"/>
              <prop v="0" k="ring_filter"/>
              <data_defined_properties>
                <Option type="Map">
                  <Option name="name" value="" type="QString"/>
                  <Option name="properties"/>
                  <Option name="type" value="collection" type="QString"/>
                </Option>
              </data_defined_properties>
              <symbol alpha="1" clip_to_extent="1" name="@@2@0@0" type="fill" force_rhr="0">
                <data_defined_properties>
                  <Option type="Map">
                    <Option name="name" value="" type="QString"/>
                    <Option name="properties"/>
                    <Option name="type" value="collection" type="QString"/>
                  </Option>
                </data_defined_properties>
                <layer enabled="1" class="SimpleFill" locked="0" pass="0">
                  <Option type="Map">
                    <Option name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="color" value="253,174,97,255" type="QString"/>
                    <Option name="joinstyle" value="bevel" type="QString"/>
                    <Option name="offset" value="0,0" type="QString"/>
                    <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="offset_unit" value="MM" type="QString"/>
                    <Option name="outline_color" value="35,35,35,220" type="QString"/>
                    <Option name="outline_style" value="solid" type="QString"/>
                    <Option name="outline_width" value="0.15" type="QString"/>
                    <Option name="outline_width_unit" value="MM" type="QString"/>
                    <Option name="style" value="solid" type="QString"/>
                  </Option>
                  <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
                  <prop v="253,174,97,255" k="color"/>
                  <prop v="bevel" k="joinstyle"/>
                  <prop v="0,0" k="offset"/>
                  <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
                  <prop v="MM" k="offset_unit"/>
                  <prop v="35,35,35,220" k="outline_color"/>
                  <prop v="solid" k="outline_style"/>
                  <prop v="0.15" k="outline_width"/>
                  <prop v="MM" k="outline_width_unit"/>
                  <prop v="solid" k="style"/>
                  <data_defined_properties>
                    <Option type="Map">
                      <Option name="name" value="" type="QString"/>
                      <Option name="properties"/>
                      <Option name="type" value="collection" type="QString"/>
                    </Option>
                  </data_defined_properties>
                </layer>
              </symbol>
            </layer>
          </symbol>
        </layer>
        <layer enabled="1" class="SimpleMarker" locked="0" pass="0">
          <Option type="Map">
            <Option name="angle" value="0" type="QString"/>
            <Option name="cap_style" value="square" type="QString"/>
            <Option name="color" value="253,174,97,255" type="QString"/>
            <Option name="horizontal_anchor_point" value="1" type="QString"/>
            <Option name="joinstyle" value="bevel" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="offset" value="0,0" type="QString"/>
            <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="offset_unit" value="MM" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="scale_method" value="area" type="QString"/>
            <Option name="size" value="2" type="QString"/>
            <Option name="size_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
            <Option name="vertical_anchor_point" value="1" type="QString"/>
          </Option>
          <prop v="0" k="angle"/>
          <prop v="square" k="cap_style"/>
          <prop v="253,174,97,255" k="color"/>
          <prop v="1" k="horizontal_anchor_point"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="circle" k="name"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="35,35,35,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.2" k="outline_width"/>
          <prop v="3x:0,0,0,0,0,0" k="outline_width_map_unit_scale"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="area" k="scale_method"/>
          <prop v="2" k="size"/>
          <prop v="3x:0,0,0,0,0,0" k="size_map_unit_scale"/>
          <prop v="MM" k="size_unit"/>
          <prop v="1" k="vertical_anchor_point"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol alpha="1" clip_to_extent="1" name="3" type="marker" force_rhr="0">
        <data_defined_properties>
          <Option type="Map">
            <Option name="name" value="" type="QString"/>
            <Option name="properties"/>
            <Option name="type" value="collection" type="QString"/>
          </Option>
        </data_defined_properties>
        <layer enabled="1" class="GeometryGenerator" locked="0" pass="0">
          <Option type="Map">
            <Option name="SymbolType" value="Line" type="QString"/>
            <Option name="geometryModifier" value="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 0.8, 5) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" type="QString"/>
            <Option name="units" value="MapUnit" type="QString"/>
          </Option>
          <prop v="Line" k="SymbolType"/>
          <prop v="make_line($geometry, project($geometry, scale_linear(&quot;shift_m&quot;, 0, maximum(&quot;shift_m&quot;, filter:=&quot;outlier&quot; = 0), 0.8, 5) * @map_scale / 1000, radians(&quot;angle_deg&quot;)))" k="geometryModifier"/>
          <prop v="MapUnit" k="units"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
          <symbol alpha="1" clip_to_extent="1" name="@3@0" type="line" force_rhr="0">
            <data_defined_properties>
              <Option type="Map">
                <Option name="name" value="" type="QString"/>
                <Option name="properties"/>
                <Option name="type" value="collection" type="QString"/>
              </Option>
            </data_defined_properties>
            <layer enabled="1" class="ArrowLine" locked="0" pass="0">
              <Option type="Map">
                <Option name="arrow_start_width" value="0.35" type="QString"/>
                <Option name="arrow_start_width_unit" value="MM" type="QString"/>
                <Option name="arrow_start_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="arrow_type" value="0" type="QString"/>
                <Option name="arrow_width" value="0.35" type="QString"/>
                <Option name="arrow_width_unit" value="MM" type="QString"/>
                <Option name="arrow_width_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_length" value="1.2" type="QString"/>
                <Option name="head_length_unit" value="MM" type="QString"/>
                <Option name="head_length_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_thickness" value="0.9" type="QString"/>
                <Option name="head_thickness_unit" value="MM" type="QString"/>
                <Option name="head_thickness_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="head_type" value="0" type="QString"/>
                <Option name="is_curved" value="0" type="QString"/>
                <Option name="is_repeated" value="0" type="QString"/>
                <Option name="offset" value="0" type="QString"/>
                <Option name="offset_unit" value="MM" type="QString"/>
                <Option name="offset_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                <Option name="ring_filter" value="0" type="QString"/>
              </Option>
              <prop v="0.35" k="arrow_start_width"/>
              <prop v="MM" k="arrow_start_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_start_width_unit_scale"/>
              <prop v="0" k="arrow_type"/>
              <prop v="0.35" k="arrow_width"/>
              <prop v="MM" k="arrow_width_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="arrow_width_unit_scale"/>
              <prop v="1.2" k="head_length"/>
              <prop v="MM" k="head_length_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_length_unit_scale"/>
              <prop v="0.9" k="head_thickness"/>
              <prop v="MM" k="head_thickness_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="head_thickness_unit_scale"/>
              <prop v="0" k="head_type"/>
              <prop v="0" k="is_curved"/>
              <prop v="0" k="is_repeated"/>
              <prop v="0" k="offset"/>
              <prop v="MM" k="offset_unit"/>
              <prop v="3x:0,0,0,0,0,0" k="offset_unit_scale"/>
              <prop v="0" k="ring_filter"/>
              <data_defined_properties>
                <Option type="Map">
                  <Option name="name" value="" type="QString"/>
                  <Option name="properties"/>
                  <Option name="type" value="collection" type="QString"/>
                </Option>
              </data_defined_properties>
              <symbol alpha="1" clip_to_extent="1" name="@@3@0@0" type="fill" force_rhr="0">
                <data_defined_properties>
                  <Option type="Map">
                    <Option name="name" value="" type="QString"/>
                    <Option name="properties"/>
                    <Option name="type" value="collection" type="QString"/>
                  </Option>
                </data_defined_properties>
                <layer enabled="1" class="SimpleFill" locked="0" pass="0">
                  <Option type="Map">
                    <Option name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="color" value="150,150,150,255" type="QString"/>
                    <Option name="joinstyle" value="bevel" type="QString"/>
                    <Option name="offset" value="0,0" type="QString"/>
                    <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
                    <Option name="offset_unit" value="MM" type="QString"/>
                    <Option name="outline_color" value="35,35,35,220" type="QString"/>
                    <Option name="outline_style" value="solid" type="QString"/>
                    <Option name="outline_width" value="0.15" type="QString"/>
                    <Option name="outline_width_unit" value="MM" type="QString"/>
                    <Option name="style" value="solid" type="QString"/>
                  </Option>
                  <prop v="3x:0,0,0,0,0,0" k="border_width_map_unit_scale"/>
                  <prop v="150,150,150,255" k="color"/>
                  <prop v="bevel" k="joinstyle"/>
                  <prop v="0,0" k="offset"/>
                  <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
                  <prop v="MM" k="offset_unit"/>
                  <prop v="35,35,35,220" k="outline_color"/>
                  <prop v="solid" k="outline_style"/>
                  <prop v="0.15" k="outline_width"/>
                  <prop v="MM" k="outline_width_unit"/>
                  <prop v="solid" k="style"/>
                  <data_defined_properties>
                    <Option type="Map">
                      <Option name="name" value="" type="QString"/>
                      <Option name="properties"/>
                      <Option name="type" value="collection" type="QString"/>
                    </Option>
                  </data_defined_properties>
                </layer>
              </symbol>
            </layer>
          </symbol>
        </layer>
        <layer enabled="1" class="SimpleMarker" locked="0" pass="0">
          <Option type="Map">
            <Option name="angle" value="0" type="QString"/>
            <Option name="cap_style" value="square" type="QString"/>
            <Option name="color" value="150,150,150,200" type="QString"/>
            <Option name="horizontal_anchor_point" value="1" type="QString"/>
            <Option name="joinstyle" value="bevel" type="QString"/>
            <Option name="name" value="cross2" type="QString"/>
            <Option name="offset" value="0,0" type="QString"/>
            <Option name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="offset_unit" value="MM" type="QString"/>
            <Option name="outline_color" value="110,110,110,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.35" type="QString"/>
            <Option name="outline_width_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="scale_method" value="area" type="QString"/>
            <Option name="size" value="2" type="QString"/>
            <Option name="size_map_unit_scale" value="3x:0,0,0,0,0,0" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
            <Option name="vertical_anchor_point" value="1" type="QString"/>
          </Option>
          <prop v="0" k="angle"/>
          <prop v="square" k="cap_style"/>
          <prop v="150,150,150,200" k="color"/>
          <prop v="1" k="horizontal_anchor_point"/>
          <prop v="bevel" k="joinstyle"/>
          <prop v="cross2" k="name"/>
          <prop v="0,0" k="offset"/>
          <prop v="3x:0,0,0,0,0,0" k="offset_map_unit_scale"/>
          <prop v="MM" k="offset_unit"/>
          <prop v="110,110,110,255" k="outline_color"/>
          <prop v="solid" k="outline_style"/>
          <prop v="0.35" k="outline_width"/>
          <prop v="3x:0,0,0,0,0,0" k="outline_width_map_unit_scale"/>
          <prop v="MM" k="outline_width_unit"/>
          <prop v="area" k="scale_method"/>
          <prop v="2" k="size"/>
          <prop v="3x:0,0,0,0,0,0" k="size_map_unit_scale"/>
          <prop v="MM" k="size_unit"/>
          <prop v="1" k="vertical_anchor_point"/>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties"/>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <customproperties>
    <Option/>
  </customproperties>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerOpacity>1</layerOpacity>
  <geometryOptions geometryPrecision="0" removeDuplicateNodes="0">
    <activeChecks type="StringList">
      <Option value="" type="QString"/>
    </activeChecks>
    <checkConfiguration/>
  </geometryOptions>
  <legend showLabelLegend="0" type="default-vector"/>
  <referencedLayers/>
  <fieldConfiguration>
    <field name="fid" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="id" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="win_row" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="win_col" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="x_opt" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="y_opt" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="x_sar" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="y_sar" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="dx_px" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="dy_px" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="dx_m" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="dy_m" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="shift_m" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="angle_deg" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="score" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="confidence" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="outlier" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="outlier_reason" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="matcher" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
    <field name="similarity" configurationFlags="None">
      <editWidget type="">
        <config>
          <Option/>
        </config>
      </editWidget>
    </field>
  </fieldConfiguration>
  <aliases>
    <alias name="" field="fid" index="0"/>
    <alias name="" field="id" index="1"/>
    <alias name="" field="win_row" index="2"/>
    <alias name="" field="win_col" index="3"/>
    <alias name="" field="x_opt" index="4"/>
    <alias name="" field="y_opt" index="5"/>
    <alias name="" field="x_sar" index="6"/>
    <alias name="" field="y_sar" index="7"/>
    <alias name="" field="dx_px" index="8"/>
    <alias name="" field="dy_px" index="9"/>
    <alias name="" field="dx_m" index="10"/>
    <alias name="" field="dy_m" index="11"/>
    <alias name="" field="shift_m" index="12"/>
    <alias name="" field="angle_deg" index="13"/>
    <alias name="" field="score" index="14"/>
    <alias name="" field="confidence" index="15"/>
    <alias name="" field="outlier" index="16"/>
    <alias name="" field="outlier_reason" index="17"/>
    <alias name="" field="matcher" index="18"/>
    <alias name="" field="similarity" index="19"/>
  </aliases>
  <defaults>
    <default applyOnUpdate="0" field="fid" expression=""/>
    <default applyOnUpdate="0" field="id" expression=""/>
    <default applyOnUpdate="0" field="win_row" expression=""/>
    <default applyOnUpdate="0" field="win_col" expression=""/>
    <default applyOnUpdate="0" field="x_opt" expression=""/>
    <default applyOnUpdate="0" field="y_opt" expression=""/>
    <default applyOnUpdate="0" field="x_sar" expression=""/>
    <default applyOnUpdate="0" field="y_sar" expression=""/>
    <default applyOnUpdate="0" field="dx_px" expression=""/>
    <default applyOnUpdate="0" field="dy_px" expression=""/>
    <default applyOnUpdate="0" field="dx_m" expression=""/>
    <default applyOnUpdate="0" field="dy_m" expression=""/>
    <default applyOnUpdate="0" field="shift_m" expression=""/>
    <default applyOnUpdate="0" field="angle_deg" expression=""/>
    <default applyOnUpdate="0" field="score" expression=""/>
    <default applyOnUpdate="0" field="confidence" expression=""/>
    <default applyOnUpdate="0" field="outlier" expression=""/>
    <default applyOnUpdate="0" field="outlier_reason" expression=""/>
    <default applyOnUpdate="0" field="matcher" expression=""/>
    <default applyOnUpdate="0" field="similarity" expression=""/>
  </defaults>
  <constraints>
    <constraint constraints="3" field="fid" exp_strength="0" notnull_strength="1" unique_strength="1"/>
    <constraint constraints="0" field="id" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="win_row" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="win_col" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="x_opt" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="y_opt" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="x_sar" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="y_sar" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="dx_px" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="dy_px" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="dx_m" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="dy_m" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="shift_m" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="angle_deg" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="score" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="confidence" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="outlier" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="outlier_reason" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="matcher" exp_strength="0" notnull_strength="0" unique_strength="0"/>
    <constraint constraints="0" field="similarity" exp_strength="0" notnull_strength="0" unique_strength="0"/>
  </constraints>
  <constraintExpressions>
    <constraint desc="" field="fid" exp=""/>
    <constraint desc="" field="id" exp=""/>
    <constraint desc="" field="win_row" exp=""/>
    <constraint desc="" field="win_col" exp=""/>
    <constraint desc="" field="x_opt" exp=""/>
    <constraint desc="" field="y_opt" exp=""/>
    <constraint desc="" field="x_sar" exp=""/>
    <constraint desc="" field="y_sar" exp=""/>
    <constraint desc="" field="dx_px" exp=""/>
    <constraint desc="" field="dy_px" exp=""/>
    <constraint desc="" field="dx_m" exp=""/>
    <constraint desc="" field="dy_m" exp=""/>
    <constraint desc="" field="shift_m" exp=""/>
    <constraint desc="" field="angle_deg" exp=""/>
    <constraint desc="" field="score" exp=""/>
    <constraint desc="" field="confidence" exp=""/>
    <constraint desc="" field="outlier" exp=""/>
    <constraint desc="" field="outlier_reason" exp=""/>
    <constraint desc="" field="matcher" exp=""/>
    <constraint desc="" field="similarity" exp=""/>
  </constraintExpressions>
  <expressionfields/>
  <attributeactions/>
  <attributetableconfig actionWidgetStyle="dropDown" sortOrder="0" sortExpression="">
    <columns/>
  </attributetableconfig>
  <conditionalstyles>
    <rowstyles/>
    <fieldstyles/>
  </conditionalstyles>
  <storedexpressions/>
  <editform tolerant="1"></editform>
  <editforminit/>
  <editforminitcodesource>0</editforminitcodesource>
  <editforminitfilepath></editforminitfilepath>
  <editforminitcode><![CDATA[]]></editforminitcode>
  <featformsuppress>0</featformsuppress>
  <editorlayout>generatedlayout</editorlayout>
  <editable/>
  <labelOnTop/>
  <reuseLastValue/>
  <dataDefinedFieldProperties/>
  <widgets/>
  <previewExpression>'#' || "id" || '  ' || format_number("shift_m", 1) || ' m'</previewExpression>
  <mapTip>&lt;b>tie point [% "id" %]&lt;/b>&lt;br>shift [% format_number("shift_m", 1) %] m (dx [% format_number("dx_px", 2) %], dy [% format_number("dy_px", 2) %] px)&lt;br>confidence [% format_number("confidence", 2) %][% CASE WHEN "outlier" = 1 THEN '&lt;br>outlier: ' || "outlier_reason" ELSE '' END %]</mapTip>
  <layerGeometryType>0</layerGeometryType>
</qgis>
